import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { inTenant } from '../../src/db/tenant.js';
import { enqueueMail } from '../../src/services/mail/outbox.js';
import { createOperator } from '../../src/services/people/operators.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeApiKey, makeCustomer, makeOperator, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { decode } from '../support/forms.js';

/** The deployment operator: a login of no tenant, with the tenants, the jobs and every tenant's mail. */

const { db } = await testDatabase();
// no SMTP_URL: the first admin's link is shown to hand over, and nothing is mailed
const { app } = testApp({ db });
const operator = await makeOperator(db, { name: 'Opal Operator' });
const acme = await makeTenant(db, { name: 'Acme Telematics' });
const acmeCustomer = await makeCustomer(db, acme.id, { title: 'Acme Freight' });
const acmeAdmin = await makeUser(db, { tenantId: acme.id, role: 'tenant_admin' });
const acmeOwner = await makeUser(db, { tenantId: acme.id, role: 'company_admin', customerId: acmeCustomer.id });
const other = await makeTenant(db, { name: 'Other Provider' });
const otherAdmin = await makeUser(db, { tenantId: other.id, role: 'tenant_admin' });

async function signInForm(email: string, password = TEST_PASSWORD) {
  const agent = supertest.agent(app);
  const page = await agent.get('/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send({ email, password, _csrf: csrfFrom(page.text) });
  return { agent, res };
}

describe('signing in as the operator', () => {
  it('lands on the tenants page, with the operator pages in the header and no tenant in sight', async () => {
    const { agent, landing } = await signedInAgent(app, operator.email, TEST_PASSWORD);
    expect(landing).toBe('/operator/tenants');
    const page = (await agent.get('/operator/tenants')).text;
    const header = page.slice(page.indexOf('<header'), page.indexOf('</header>'));
    const links = [...header.matchAll(/<li><a href="([^"]+)"/g)].map((m) => m[1]);
    expect(links).toEqual(['/operator/tenants', '/operator/jobs', '/operator/mail', '/settings/two-factor']);
    expect(header).toContain('Opal Operator');
    expect(header).toContain('Portico deployment');
    expect((await agent.get('/').redirects(0)).headers.location).toBe('/operator/tenants');
  });

  it("refuses the operator every tenant's page: the operator belongs to no tenant", async () => {
    const { agent } = await signedInAgent(app, operator.email, TEST_PASSWORD);
    for (const path of [
      '/admin/customers',
      `/admin/customers/${acmeCustomer.id}`,
      '/admin/mail',
      '/admin/jobs',
      '/assets',
    ])
      expect((await agent.get(path)).status, path).toBe(403);
  });

  it("refuses tenant admins and customers' people every operator page", async () => {
    for (const who of [acmeAdmin, acmeOwner]) {
      const { agent, csrf } = await signedInAgent(app, who.email, TEST_PASSWORD);
      for (const path of ['/operator/tenants', '/operator/jobs', '/operator/mail'])
        expect((await agent.get(path)).status, path).toBe(403);
      const made = await agent
        .post('/operator/tenants')
        .type('form')
        .send({ _csrf: csrf, name: 'Sneaky Provider', adminEmail: 'sneaky@example.test' });
      expect(made.status).toBe(403);
    }
    expect(await db('tenants').where({ name: 'Sneaky Provider' }).first('id')).toBeUndefined();
  });
});

describe('creating a tenant', () => {
  it("shows the first admin's single-use link, with which they choose a password and sign in", async () => {
    const { agent, csrf } = await signedInAgent(app, operator.email, TEST_PASSWORD);
    const res = await agent.post('/operator/tenants').type('form').send({
      _csrf: csrf,
      name: '  Northern Lights Telecom ',
      adminEmail: 'nadia@northern.test',
      adminName: 'Nadia North',
    });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('Northern Lights Telecom was created');
    const link = /value="http:\/\/localhost:\d+(\/activate\/[A-Za-z0-9_-]+)"/.exec(res.text)?.[1];
    expect(link, res.text).toBeDefined();
    // nothing is mailed without an SMTP server: the link exists only on that page
    const tenant = await db('tenants').where({ name: 'Northern Lights Telecom' }).first('id');
    expect(await db('outbox').where({ tenant_id: tenant.id }).first('id')).toBeUndefined();
    expect(await db('audit_log').where({ tenant_id: tenant.id }).orderBy('id').pluck('action')).toEqual([
      'tenant.created',
      'user.created',
    ]);
    expect((await db('audit_log').where({ tenant_id: tenant.id }).first('actor_label')).actor_label).toBe(
      `Opal Operator <${operator.email}> (deployment operator)`,
    );

    const nadia = supertest.agent(app);
    const form = await nadia.get(link!);
    expect(form.status).toBe(200);
    expect(form.text).toContain('Nadia North');
    const activated = await nadia
      .post(link!)
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        password: 'northern lights shine',
        passwordConfirm: 'northern lights shine',
      });
    expect(activated.status).toBe(303);
    expect(activated.headers.location).toBe('/admin/customers');
    const customers = await nadia.get('/admin/customers');
    expect(customers.status).toBe(200);
    expect(customers.text).toContain('Northern Lights Telecom');
    // the link worked once (a used link is a 404 page, DESIGN section 10)
    expect((await supertest(app).get(link!)).status).toBe(404);
    // and the operator's list shows the tenant with its admin, now active
    const list = decode((await agent.get('/operator/tenants')).text);
    expect(list).toMatch(
      /<th scope="row">Northern Lights Telecom<\/th>[\s\S]*?Nadia North <nadia@northern\.test>\s*<\/div>/,
    );
  });

  it('refuses a missing name, a bad email, an email that has a login and a taken name, by the field', async () => {
    const { agent, csrf } = await signedInAgent(app, operator.email, TEST_PASSWORD);
    const tenantsBefore = await db('tenants').count({ n: '*' }).first();
    const cases: [Record<string, string>, string, string][] = [
      [{ name: ' ', adminEmail: 'a@b.test' }, 'f-name-error', 'Enter the tenant&#39;s name.'],
      [{ name: 'Fresh Provider', adminEmail: 'not an email' }, 'f-adminEmail-error', 'Enter a valid email address'],
      [{ name: 'Fresh Provider', adminEmail: acmeAdmin.email.toUpperCase() }, 'f-adminEmail-error', 'already exists'],
      [{ name: 'acme telematics', adminEmail: 'new@acme.test' }, 'f-name-error', 'exists already'],
    ];
    for (const [form, field, message] of cases) {
      const res = await agent
        .post('/operator/tenants')
        .type('form')
        .send({ _csrf: csrf, ...form });
      expect(res.status, JSON.stringify(form)).toBe(422);
      expect(res.text).toMatch(new RegExp(`id="${field}">[^<]*${message.replace(/[.()]/g, '\\$&')}`));
      expect(res.text).toContain(`value="${form.adminEmail}"`);
    }
    expect(await db('tenants').count({ n: '*' }).first()).toEqual(tenantsBefore);
    expect(await db('users').where({ email: 'new@acme.test' }).first('id')).toBeUndefined();
  });
});

describe("a first admin's activation link", () => {
  it('is issued anew while they have not activated, and the earlier link stops working', async () => {
    const { agent, csrf } = await signedInAgent(app, operator.email, TEST_PASSWORD);
    const made = await agent
      .post('/operator/tenants')
      .type('form')
      .send({ _csrf: csrf, name: 'Slow Starter', adminEmail: 'sam@slow.test' });
    const first = /\/activate\/[A-Za-z0-9_-]+/.exec(made.text)![0];
    const tenant = await db('tenants').where({ name: 'Slow Starter' }).first('id');
    const sam = await db('users').where({ email: 'sam@slow.test' }).first('id');
    const path = `/operator/tenants/${tenant.id}/admins/${sam.id}/activation-link`;
    expect((await agent.get('/operator/tenants')).text).toContain(`action="${path}"`);

    const again = await agent.post(path).type('form').send({ _csrf: csrf });
    expect(again.status).toBe(200);
    expect(again.headers['cache-control']).toBe('no-store');
    expect(again.text).toContain('A new activation link for sam');
    const second = /\/activate\/[A-Za-z0-9_-]+/.exec(again.text)![0];
    expect(second).not.toBe(first);
    expect((await supertest(app).get(first)).status).toBe(404);
    expect((await supertest(app).get(second)).status).toBe(200);

    // once active, there is no link to give
    await db('users').where({ id: sam.id }).update({ status: 'active' });
    const refused = await agent.post(path).type('form').send({ _csrf: csrf });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('sam has activated their account already');
    // an admin of another tenant is not found there
    expect(
      (
        await agent
          .post(`/operator/tenants/${acme.id}/admins/${sam.id}/activation-link`)
          .type('form')
          .send({ _csrf: csrf })
      ).status,
    ).toBe(404);
  });
});

describe('disabling a tenant', () => {
  it('stops its sign-ins, sessions and API keys, deletes nothing, and enabling lets them back', async () => {
    const victim = await makeTenant(db, { name: 'Paused Provider' });
    const victimCustomer = await makeCustomer(db, victim.id, { title: 'Paused Customer' });
    const victimAdmin = await makeUser(db, { tenantId: victim.id, role: 'tenant_admin' });
    const signedIn = await signedInAgent(app, victimAdmin.email, TEST_PASSWORD);
    const bystander = await signedInAgent(app, otherAdmin.email, TEST_PASSWORD);
    expect((await signedIn.agent.get('/admin/customers')).status).toBe(200);
    const key = await makeApiKey(db, victim.id);
    const callApi = async () => (await supertest(app).get('/api/v1/key').set('Authorization', `Bearer ${key}`)).status;
    expect(await callApi()).toBe(200);

    const { agent, csrf } = await signedInAgent(app, operator.email, TEST_PASSWORD);
    const disabled = await agent
      .post(`/operator/tenants/${victim.id}/status`)
      .type('form')
      .send({ _csrf: csrf, status: 'disabled' });
    expect(disabled.status).toBe(303);
    const list = (await agent.get('/operator/tenants')).text;
    expect(decode(list)).toContain(
      'Paused Provider is disabled: its people can no longer sign in, and its renewals and reminders wait.',
    );

    // the open session stops at its next request; a new sign-in is refused
    const after = await signedIn.agent.get('/admin/customers').redirects(0);
    expect(after.status).toBe(303);
    expect(after.headers.location).toMatch(/^\/login\?next=/);
    expect((await signInForm(victimAdmin.email)).res.status).toBe(422);
    // its integrations stop too
    expect(await callApi()).toBe(401);
    // another tenant carries on
    expect((await bystander.agent.get('/admin/customers')).status).toBe(200);
    // nothing deleted
    expect(await db('customers').where({ tenant_id: victim.id }).pluck('title')).toEqual([victimCustomer.title]);
    expect(await db('users').where({ id: victimAdmin.id }).first('status')).toEqual({ status: 'active' });

    const enabled = await agent
      .post(`/operator/tenants/${victim.id}/status`)
      .type('form')
      .send({ _csrf: csrf, status: 'active' });
    expect(enabled.status).toBe(303);
    expect((await signInForm(victimAdmin.email)).res.status).toBe(303);
    expect(await callApi()).toBe(200);
    expect(await db('audit_log').where({ tenant_id: victim.id }).orderBy('id').pluck('action')).toEqual([
      'tenant.disabled',
      'tenant.enabled',
    ]);
  });

  it('answers 404 for a tenant that does not exist and 422 for a status that is not one', async () => {
    const { agent, csrf } = await signedInAgent(app, operator.email, TEST_PASSWORD);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(
      (await agent.post(`/operator/tenants/${unknown}/status`).type('form').send({ _csrf: csrf, status: 'disabled' }))
        .status,
    ).toBe(404);
    expect(
      (await agent.post(`/operator/tenants/${acme.id}/status`).type('form').send({ _csrf: csrf, status: 'gone' }))
        .status,
    ).toBe(422);
    expect(await db('tenants').where({ id: acme.id }).first('disabled_at')).toEqual({ disabled_at: null });
  });
});

describe("the deployment's outgoing mail", () => {
  it("shows the operator every tenant's mail with its tenant, and a tenant admin only their own", async () => {
    await enqueueMail(db, { tenantId: acme.id, kind: 'test', to: 'a@acme.test', subject: 'Acme news', text: 'Hi A' });
    await enqueueMail(db, {
      tenantId: other.id,
      kind: 'test',
      to: 'o@other.test',
      subject: 'Other news',
      text: 'Hi O',
    });
    const otherId = (await db('outbox').where({ subject: 'Other news' }).first('id')).id as number;

    const { agent } = await signedInAgent(app, operator.email, TEST_PASSWORD);
    const list = (await agent.get('/operator/mail')).text;
    expect(list).toMatch(/<td>Acme Telematics<\/td>[\s\S]*?Acme news/);
    expect(list).toMatch(/<td>Other Provider<\/td>[\s\S]*?Other news/);
    expect(list).toContain(`href="/operator/mail/${otherId}"`);
    const message = await agent.get(`/operator/mail/${otherId}`);
    expect(message.status).toBe(200);
    expect(message.text).toContain('Hi O');
    expect(message.text).toContain('This is the outbox of Other Provider');

    const asAcme = (await signedInAgent(app, acmeAdmin.email, TEST_PASSWORD)).agent;
    const own = (await asAcme.get('/admin/mail')).text;
    expect(own).toContain('Acme news');
    expect(own).not.toContain('Other news');
    expect(own).not.toContain('<th scope="col">Tenant</th>');
    expect((await asAcme.get(`/admin/mail/${otherId}`)).status).toBe(404);
  });
});

describe("an operator's own account", () => {
  it('is activated by its single-use link, which signs the operator in to the operator pages', async () => {
    const { user, token } = await createOperator(db, { email: 'olga@ops.test' }, new Date());
    expect(user.name).toBe('olga');
    const olga = supertest.agent(app);
    const form = await olga.get(`/activate/${token}`);
    expect(form.status).toBe(200);
    const res = await olga
      .post(`/activate/${token}`)
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        password: 'operating the deployment',
        passwordConfirm: 'operating the deployment',
      });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/operator/tenants');
    expect((await olga.get('/operator/tenants')).status).toBe(200);
    expect((await olga.get('/admin/customers')).status).toBe(403);
  });

  it("a tenant's transaction can neither read the operators nor make anyone one", async () => {
    await expect(inTenant(db, acme.id, (trx) => trx('operators').select('user_id'))).rejects.toThrow(
      /permission denied/,
    );
    await expect(inTenant(db, acme.id, (trx) => trx('operators').insert({ user_id: acmeAdmin.id }))).rejects.toThrow(
      /permission denied/,
    );
    expect(await db('operators').where({ user_id: acmeAdmin.id }).first('user_id')).toBeUndefined();
  });
});
