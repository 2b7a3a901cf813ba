import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { revokeSessionsOfUser, totpCodeAt } from '../../src/services/people/index.js';
import { csrfFrom, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeOperator, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const clock = fixedClock(new Date());
const { app } = testApp({ db, clock });
const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Acme Freight' });
const newPerson = (role: 'company_admin' | 'group_admin' | 'tenant_admin' | 'support_agent' = 'group_admin') =>
  makeUser(
    db,
    {
      tenantId: tenant.id,
      role,
      ...(role === 'tenant_admin' || role === 'support_agent' ? {} : { customerId: customer.id }),
    },
    {},
  );

type Agent = ReturnType<typeof supertest.agent>;

/** The password step: a client whose session now waits for a code (or is signed in, for a login without). */
async function passwordStep(email: string, password = TEST_PASSWORD) {
  const agent = supertest.agent(app);
  const page = await agent.get('/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send({ email, password, _csrf: csrfFrom(page.text) });
  return { agent, res };
}

async function sendCode(agent: Agent, code: string) {
  const page = await agent.get('/login/two-factor');
  expect(page.status).toBe(200);
  return agent
    .post('/login/two-factor')
    .type('form')
    .send({ code, _csrf: csrfFrom(page.text) });
}

async function signedIn(email: string): Promise<Agent> {
  const { agent, res } = await passwordStep(email);
  expect(res.status).toBe(303);
  expect(res.headers.location).not.toBe('/login/two-factor');
  return agent;
}

const isSignedIn = async (agent: Agent) => (await agent.get('/settings')).status === 200;

/** Turns two-factor on from the settings page: the secret shown as text, and the recovery codes shown once. */
async function enable(agent: Agent): Promise<{ secret: string; codes: string[] }> {
  const page = await agent.get('/settings/two-factor');
  expect(page.status).toBe(200);
  const secret = /id="two-factor-secret">([A-Z2-7 ]+)</.exec(page.text)![1]!.replace(/ /g, '');
  const res = await agent
    .post('/settings/two-factor')
    .type('form')
    .send({ code: totpCodeAt(secret, clock.now()), _csrf: csrfFrom(page.text) });
  expect(res.status).toBe(200);
  const codes = [...res.text.matchAll(/<li><code>([a-z0-9]{4}-[a-z0-9]{4})<\/code><\/li>/g)].map((m) => m[1]!);
  // the code that turned it on is spent: the next step's code is the one to sign in with
  clock.advance(30_000);
  return { secret, codes };
}

async function personWithTwoFactor(role?: Parameters<typeof newPerson>[0]) {
  const person = await newPerson(role);
  const { secret, codes } = await enable(await signedIn(person.email));
  return { person, secret, codes };
}

describe('turning two-factor sign-in on', () => {
  it('shows a QR code drawn as SVG with the secret as text, and refuses a wrong code on the page', async () => {
    const agent = await signedIn((await newPerson()).email);
    const page = await agent.get('/settings/two-factor');
    expect(page.text).toMatch(/<svg [^>]*viewBox/);
    expect(page.text).toMatch(/id="two-factor-secret">[A-Z2-7]{4}( [A-Z2-7]{1,4})+</);
    expect(page.headers['cache-control']).toBe('no-store');
    const res = await agent
      .post('/settings/two-factor')
      .type('form')
      .send({ code: '000000', _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(422);
    expect(res.text).toContain('That code is not right');
    expect(res.text).toContain('aria-invalid="true"');
    expect((await agent.get('/settings/two-factor')).text).toContain('Turn two-factor sign-in on');
  });

  it('turns on with one current code and shows ten recovery codes once, storing neither in the clear', async () => {
    const person = await newPerson();
    const agent = await signedIn(person.email);
    const { secret, codes } = await enable(agent);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const page = await agent.get('/settings/two-factor');
    expect(page.text).toContain('is <strong>on</strong>');
    expect(page.text).not.toContain(codes[0]);
    const row = await db('two_factor_logins').where({ user_id: person.id }).first();
    expect(row.secret).not.toContain(secret);
    const hashes = await db('two_factor_recovery_codes').where({ user_id: person.id }).pluck('code_hash');
    expect(hashes).toHaveLength(10);
    for (const c of codes) expect(hashes.join()).not.toContain(c.replace('-', ''));
  });
});

describe('signing in with two-factor', () => {
  it('asks for the code after the password, and the session is not signed in until it is given', async () => {
    const { person, secret } = await personWithTwoFactor();
    const sessionsOf = async () => (await db('session').where({ user_id: person.id }).count({ n: '*' }).first())!.n;
    const before = await sessionsOf();
    const { agent, res } = await passwordStep(person.email);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login/two-factor');
    expect(await isSignedIn(agent)).toBe(false);
    const home = await agent.get('/');
    expect(home.status).toBe(303);
    expect(home.headers.location).toMatch(/^\/login/);
    // the waiting session names nobody: no row says whose it is
    expect(await sessionsOf()).toBe(before);

    const done = await sendCode(agent, totpCodeAt(secret, clock.now()));
    expect(done.status).toBe(303);
    expect(done.headers.location).not.toMatch(/two-factor|login/);
    expect(await isSignedIn(agent)).toBe(true);
  });

  it('keeps a wrong code on the page with a message', async () => {
    const { person } = await personWithTwoFactor();
    const { agent } = await passwordStep(person.email);
    const res = await sendCode(agent, '123456');
    expect(res.status).toBe(422);
    expect(res.text).toContain('That code is not right');
    expect(res.text).toContain('action="/login/two-factor"');
    expect(await isSignedIn(agent)).toBe(false);
  });

  it('refuses a code that was already used, even from another device', async () => {
    const { person, secret } = await personWithTwoFactor();
    const code = totpCodeAt(secret, clock.now());
    const first = await passwordStep(person.email);
    const second = await passwordStep(person.email);
    expect((await sendCode(first.agent, code)).status).toBe(303);
    const replay = await sendCode(second.agent, code);
    expect(replay.status).toBe(422);
    expect(replay.text).toContain('already used');
    expect(await isSignedIn(second.agent)).toBe(false);
    clock.advance(30_000);
    expect((await sendCode(second.agent, totpCodeAt(secret, clock.now()))).status).toBe(303);
  });

  it('lets only one of two sign-ins sent at once with the same code through', async () => {
    const { person, secret, codes } = await personWithTwoFactor();
    const a = await passwordStep(person.email);
    const b = await passwordStep(person.email);
    const code = totpCodeAt(secret, clock.now());
    const [ra, rb] = await Promise.all([sendCode(a.agent, code), sendCode(b.agent, code)]);
    expect([ra.status, rb.status].sort()).toEqual([303, 422]);
    const c = await passwordStep(person.email);
    const d = await passwordStep(person.email);
    const [rc, rd] = await Promise.all([sendCode(c.agent, codes[0]!), sendCode(d.agent, codes[0]!)]);
    expect([rc.status, rd.status].sort()).toEqual([303, 422]);
  });

  it('accepts each recovery code once, in the same field', async () => {
    const { person, codes } = await personWithTwoFactor();
    const first = await passwordStep(person.email);
    const ok = await sendCode(first.agent, codes[3]!.toUpperCase());
    expect(ok.status).toBe(303);
    expect(await isSignedIn(first.agent)).toBe(true);
    const again = await passwordStep(person.email);
    const refused = await sendCode(again.agent, codes[3]!);
    expect(refused.status).toBe(422);
    expect(await isSignedIn(again.agent)).toBe(false);
    expect(await db('two_factor_recovery_codes').where({ user_id: person.id }).count({ n: '*' }).first()).toEqual({
      n: 9,
    });
  });

  it('locks the second step for 15 minutes after five wrong codes in a row, even for the right one', async () => {
    const { person, secret } = await personWithTwoFactor();
    const { agent } = await passwordStep(person.email);
    for (let i = 0; i < 4; i++) expect((await sendCode(agent, '000000')).status).toBe(422);
    const fifth = await sendCode(agent, '000000');
    expect(fifth.status).toBe(429);
    expect(fifth.text).toContain('Too many wrong codes. Try again in 15 minutes.');
    const right = await sendCode(agent, totpCodeAt(secret, clock.now()));
    expect(right.status).toBe(429);
    expect(await isSignedIn(agent)).toBe(false);

    clock.advance(15 * 60_000 + 1000);
    const later = await passwordStep(person.email);
    expect((await sendCode(later.agent, totpCodeAt(secret, clock.now()))).status).toBe(303);
  });

  it('sends a second step that waited too long back to the password', async () => {
    const { person, secret } = await personWithTwoFactor();
    const { agent } = await passwordStep(person.email);
    const page = await agent.get('/login/two-factor');
    clock.advance(6 * 60_000);
    const res = await agent
      .post('/login/two-factor')
      .type('form')
      .send({ code: totpCodeAt(secret, clock.now()), _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login');
    expect(await isSignedIn(agent)).toBe(false);
  });

  it('signs nobody in when the person’s sessions were ended between the password and the code', async () => {
    const { person, secret } = await personWithTwoFactor();
    const { agent } = await passwordStep(person.email);
    clock.advance(1000);
    await revokeSessionsOfUser(db, person.id, clock.now());
    clock.advance(1000);
    const res = await sendCode(agent, totpCodeAt(secret, clock.now()));
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login');
    expect(await isSignedIn(agent)).toBe(false);
  });

  it('works for a deployment operator too', async () => {
    const op = await makeOperator(db);
    const { secret } = await enable(await signedIn(op.email));
    const { agent, res } = await passwordStep(op.email);
    expect(res.headers.location).toBe('/login/two-factor');
    const done = await sendCode(agent, totpCodeAt(secret, clock.now()));
    expect(done.headers.location).toBe('/operator/tenants');
    expect((await agent.get('/operator/tenants')).status).toBe(200);
  });
});

describe('turning two-factor sign-in off', () => {
  it('needs the password and a current code', async () => {
    const { person, secret } = await personWithTwoFactor();
    const { agent } = await passwordStep(person.email);
    await sendCode(agent, totpCodeAt(secret, clock.now()));
    clock.advance(30_000);
    const page = await agent.get('/settings/two-factor');
    const wrongPassword = await agent
      .post('/settings/two-factor/delete')
      .type('form')
      .send({ password: 'not the password at all', code: totpCodeAt(secret, clock.now()), _csrf: csrfFrom(page.text) });
    expect(wrongPassword.status).toBe(422);
    expect(wrongPassword.text).toContain('This is not your password.');
    clock.advance(30_000);
    const noCode = await agent
      .post('/settings/two-factor/delete')
      .type('form')
      .send({ password: TEST_PASSWORD, code: '', _csrf: csrfFrom(page.text) });
    expect(noCode.status).toBe(422);
    expect(await db('two_factor_logins').where({ user_id: person.id }).first()).toBeTruthy();
    const off = await agent
      .post('/settings/two-factor/delete')
      .type('form')
      .send({ password: TEST_PASSWORD, code: totpCodeAt(secret, clock.now()), _csrf: csrfFrom(page.text) });
    expect(off.status).toBe(303);
    expect(await db('two_factor_logins').where({ user_id: person.id }).first()).toBeUndefined();
    expect(await db('two_factor_recovery_codes').where({ user_id: person.id }).first()).toBeUndefined();
    await signedIn(person.email);
  });
});

describe('a tenant that requires two-factor', () => {
  it('sends its staff and company admins without it to set it up before anything else, and no one else', async () => {
    const t = await makeTenant(db);
    const c = await makeCustomer(db, t.id);
    const admin = await makeUser(db, { tenantId: t.id, role: 'tenant_admin' });
    const companyAdmin = await makeUser(db, { tenantId: t.id, role: 'company_admin', customerId: c.id });
    const groupAdmin = await makeUser(db, { tenantId: t.id, role: 'group_admin', customerId: c.id });
    const adminAgent = await signedIn(admin.email);
    const settings = await adminAgent.get('/admin/settings');
    expect(settings.text).toContain('Require it of staff');
    const saved = await adminAgent
      .post('/admin/settings/two-factor')
      .type('form')
      .send({ staff: 'on', companyAdmins: 'on', _csrf: csrfFrom(settings.text) });
    expect(saved.status).toBe(303);
    expect(
      await db('audit_log').where({ tenant_id: t.id, action: 'tenant.two_factor_requirement_changed' }).first(),
    ).toBeTruthy();

    // the admin who just required it is sent there too, on their next page
    const next = await adminAgent.get('/admin/customers');
    expect(next.status).toBe(303);
    expect(next.headers.location).toBe('/settings/two-factor');

    const { agent, res } = await passwordStep(companyAdmin.email);
    expect(res.status).toBe(303);
    const landing = await agent.get(res.headers.location!);
    expect(landing.status).toBe(303);
    expect(landing.headers.location).toBe('/settings/two-factor');
    const setup = await agent.get('/settings/two-factor');
    expect(setup.status).toBe(200);
    expect(setup.text).toContain('requires two-factor sign-in for your role');
    const htmx = await agent.get('/assets').set('HX-Request', 'true');
    expect(htmx.headers['hx-redirect']).toBe('/settings/two-factor');

    await enable(agent);
    expect((await agent.get('/assets')).status).toBe(200);

    const group = await signedIn(groupAdmin.email);
    expect((await group.get('/assets')).status).toBe(200);
  });
});

describe('staff resetting a person’s two-factor', () => {
  it('turns it off, writes the customer’s audit log and mails the person', async () => {
    const { person } = await personWithTwoFactor('group_admin');
    const admin = await newPerson('tenant_admin');
    const agent = await signedIn(admin.email);
    const userPage = await agent.get(`/admin/customers/${customer.id}/users/${person.id}`);
    expect(userPage.text).toContain(`/users/${person.id}/two-factor"`);
    const page = await agent.get(`/admin/customers/${customer.id}/users/${person.id}/two-factor`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Reset two-factor sign-in');
    const res = await agent
      .post(`/admin/customers/${customer.id}/users/${person.id}/two-factor/reset`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(303);
    expect(await db('two_factor_logins').where({ user_id: person.id }).first()).toBeUndefined();
    const entry = await db('audit_log').where({ entity_id: person.id, action: 'user.two_factor_reset' }).first();
    expect(entry.customer_id).toBe(customer.id);
    expect(entry.actor_user_id).toBe(admin.id);
    const mail = await db('outbox').where({ recipient: person.email, kind: 'two_factor_reset' }).first();
    expect(mail.body_text).toContain('turned off two-factor sign-in');
    await signedIn(person.email);
  });

  it('refuses to reset a login that also signs in with another provider', async () => {
    const { person } = await personWithTwoFactor('group_admin');
    const other = await makeTenant(db);
    await db('memberships').insert({ tenant_id: other.id, user_id: person.id, role: 'tenant_admin' });
    const agent = await signedIn((await newPerson('tenant_admin')).email);
    const page = await agent.get(`/admin/customers/${customer.id}/users/${person.id}/two-factor`);
    const res = await agent
      .post(`/admin/customers/${customer.id}/users/${person.id}/two-factor/reset`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(409);
    expect(res.text).toContain('also signs in with another provider');
    expect(await db('two_factor_logins').where({ user_id: person.id }).first()).toBeTruthy();
  });

  it('answers 404 to another tenant’s admin', async () => {
    const { person } = await personWithTwoFactor('group_admin');
    const t = await makeTenant(db);
    const stranger = await makeUser(db, { tenantId: t.id, role: 'tenant_admin' });
    const agent = await signedIn(stranger.email);
    const page = await agent.get('/settings');
    const res = await agent
      .post(`/admin/customers/${customer.id}/users/${person.id}/two-factor/reset`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(404);
    expect(await db('two_factor_logins').where({ user_id: person.id }).first()).toBeTruthy();
  });
});

describe('accepting an invitation', () => {
  it('asks a login with two-factor for its code too before signing it in', async () => {
    const other = await makeTenant(db);
    const otherCustomer = await makeCustomer(db, other.id);
    const person = await makeUser(db, { tenantId: other.id, role: 'group_admin', customerId: otherCustomer.id });
    const { secret } = await enable(await signedIn(person.email));
    const admin = await signedIn((await newPerson('tenant_admin')).email);
    const form = await admin.get(`/admin/customers/${customer.id}/users/new`);
    const added = await admin
      .post(`/admin/customers/${customer.id}/users`)
      .type('form')
      .send({
        name: 'Invited',
        email: person.email,
        role: 'group_supervisor',
        activation: 'email',
        _csrf: csrfFrom(form.text),
      });
    expect(added.status).toBe(303);
    const mail = await db('outbox').where({ recipient: person.email }).orderBy('id', 'desc').first('body_text');
    const link = /(\/activate\/[A-Za-z0-9_-]+)/.exec(mail.body_text)![1]!;

    const client = supertest.agent(app);
    const page = await client.get(link);
    const res = await client
      .post(link)
      .type('form')
      .send({ password: TEST_PASSWORD, _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login/two-factor');
    expect(await isSignedIn(client)).toBe(false);
    expect((await sendCode(client, totpCodeAt(secret, clock.now()))).status).toBe(303);
    expect(await isSignedIn(client)).toBe(true);
  });
});
