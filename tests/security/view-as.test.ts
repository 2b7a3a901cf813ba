import type supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { revokeSessionsOfUser } from '../../src/services/people/index.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeGroup, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { listRoutes } from '../support/routes.js';

/**
 * "View as" (issue 21): staff see the portal as a customer user, read only, for 30 minutes. Attacks: a user
 * of another tenant or another customer than the URL's, a person with more rights than the staff member
 * then writes of every kind (forms, htmx, API, role switch, sign-in), the person's or the staff member's
 * sessions ended while viewing, and the 30 minutes checked on the server with every request.
 */

const { db } = await testDatabase();
// the session rows expire by the real clock (the cookie's date): the app's clock starts from it
const clock = fixedClock(new Date().toISOString());
const { app } = testApp({ db, clock });
const tenant = await makeTenant(db);
const acme = await makeCustomer(db, tenant.id, { title: 'Acme Freight' });
const other = await makeCustomer(db, tenant.id, { title: 'Other Co' });
const trucks = await makeGroup(db, acme, { name: 'Trucks' });
const truck = await makeAsset(db, { group: trucks });
const support = await makeUser(db, { tenantId: tenant.id, role: 'support_agent' }, { name: 'Sam Support' });
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }, { name: 'Ada Admin' });
const otherTenant = await makeTenant(db);
const otherCustomer = await makeCustomer(db, otherTenant.id, { title: 'Elsewhere Ltd' });
const foreignUser = await makeUser(db, {
  tenantId: otherTenant.id,
  role: 'company_admin',
  customerId: otherCustomer.id,
});
const foreignAdmin = await makeUser(db, { tenantId: otherTenant.id, role: 'tenant_admin' });

let people = 0;
/** A fresh company admin of Acme: more rights on Acme's data than any support agent. */
const newOwner = () =>
  makeUser(
    db,
    { tenantId: tenant.id, role: 'company_admin', customerId: acme.id },
    { name: `Olive Owner ${++people}` },
  );

type Agent = ReturnType<typeof supertest.agent>;
type Person = Awaited<ReturnType<typeof newOwner>>;

const auditOf = (userId: string) =>
  db('audit_log')
    .where({ entity_type: 'user', entity_id: userId })
    .whereIn('action', ['user.view_as_started', 'user.view_as_ended'])
    .orderBy('id')
    .select('action', 'actor_label', 'customer_id', 'after');

/** Starts a view as `person` from the staff user page; the agent's pages then carry a new CSRF token. */
async function startView(staff: { email: string }, person: Person) {
  const { agent, csrf } = await signedInAgent(app, staff.email, TEST_PASSWORD);
  const page = `/admin/customers/${acme.id}/users/${person.id}`;
  const shown = await agent.get(page);
  expect(shown.status).toBe(200);
  expect(shown.text).toContain('View as');
  const res = await agent.post(`${page}/view-as`).type('form').send({ _csrf: csrf });
  expect(res.status).toBe(303);
  const home = await agent.get('/assets');
  expect(home.status).toBe(200);
  return { agent, csrf: csrfFrom(home.text), home };
}

async function viewing(agent: Agent): Promise<boolean> {
  const res = await agent.get('/assets');
  return res.status === 200 && res.text.includes('Viewing as');
}

describe('starting a view as someone', () => {
  it('support sees the portal as the person, with the banner on every page, audited under their name', async () => {
    const person = await newOwner();
    const { agent, home } = await startView(support, person);
    expect(home.text).toContain(`Viewing as ${person.name}`);
    expect(home.text).toContain(truck.identifier);
    for (const page of ['/groups', '/settings', `/assets/${truck.id}`, '/billing']) {
      const res = await agent.get(page);
      expect(res.status, page).toBe(200);
      expect(res.text, page).toContain(`Viewing as ${person.name}`);
    }
    // reads that are not pages answer as for the person too
    expect((await agent.get('/assets.csv')).status).toBe(200);
    // a staff page is not the person's
    expect((await agent.get('/admin/customers')).status).toBe(403);
    const log = await auditOf(person.id);
    expect(log.map((e) => e.action)).toEqual(['user.view_as_started']);
    expect(log[0]!.actor_label).toContain('Sam Support');
    expect(log[0]!.customer_id).toBe(acme.id);
  });

  it('finds no user of another tenant, nor a user under another customer id than the URL names', async () => {
    const person = await newOwner();
    const { agent, csrf } = await signedInAgent(app, support.email, TEST_PASSWORD);
    const tries = [
      `/admin/customers/${otherCustomer.id}/users/${foreignUser.id}/view-as`,
      `/admin/customers/${acme.id}/users/${foreignUser.id}/view-as`,
      `/admin/customers/${other.id}/users/${person.id}/view-as`,
      // staff are no customer users: nobody views as a colleague
      `/admin/customers/${acme.id}/users/${admin.id}/view-as`,
      `/admin/customers/${acme.id}/users/not-a-uuid/view-as`,
    ];
    for (const path of tries) {
      const res = await agent.post(path).type('form').send({ _csrf: csrf });
      expect(res.status, path).toBe(404);
    }
    // another tenant's admin: the person is not theirs
    const foreign = await signedInAgent(app, foreignAdmin.email, TEST_PASSWORD);
    const res = await foreign.agent
      .post(`/admin/customers/${acme.id}/users/${person.id}/view-as`)
      .type('form')
      .send({ _csrf: foreign.csrf });
    expect(res.status).toBe(404);
    expect(await viewing(agent)).toBe(false);
    expect(await auditOf(person.id)).toEqual([]);
  });

  it('refuses customer people, and has nothing to view for a person who cannot sign in', async () => {
    const person = await newOwner();
    const owner = await signedInAgent(app, person.email, TEST_PASSWORD);
    const colleague = await newOwner();
    const res = await owner.agent
      .post(`/admin/customers/${acme.id}/users/${colleague.id}/view-as`)
      .type('form')
      .send({ _csrf: owner.csrf });
    expect(res.status).toBe(403);
    const pending = await makeUser(
      db,
      { tenantId: tenant.id, role: 'group_admin', customerId: acme.id },
      { status: 'pending', password_hash: null },
    );
    const staff = await signedInAgent(app, support.email, TEST_PASSWORD);
    const page = `/admin/customers/${acme.id}/users/${pending.id}`;
    expect((await staff.agent.get(page)).text).not.toContain('>View as<');
    const refused = await staff.agent.post(`${page}/view-as`).type('form').send({ _csrf: staff.csrf });
    expect(refused.status).toBe(409);
  });
});

describe('a view is read only, whatever the person may do', () => {
  it('refuses every unsafe route of the app with 403, as forms and as htmx, and changes nothing', async () => {
    const person = await newOwner();
    const { agent, csrf } = await startView(support, person);
    const tables = ['users', 'memberships', 'groups', 'assets', 'asset_requests', 'tickets', 'audit_log', 'outbox'];
    const counts = () => Promise.all(tables.map(async (t) => Number((await db(t).count({ n: '*' }).first())!.n)));
    const before = await counts();
    const unsafe = listRoutes(app).filter(
      (r) => !r.startsWith('GET ') && !r.startsWith('POST /api/') && r !== 'POST /view-as/end' && r !== 'POST /logout',
    );
    expect(unsafe.length).toBeGreaterThan(50);
    const allowed: string[] = [];
    for (const route of unsafe) {
      const [method, template] = route.split(' ') as [string, string];
      const path = template
        .replace(/:id\b/, acme.id)
        .replace(/:userId\b/, person.id)
        .replace(/:token\b/, 'x'.repeat(43))
        .replace(/:[a-zA-Z]+/g, truck.id)
        .replace('/assets/' + acme.id, '/assets/' + truck.id);
      const form = await agent[method.toLowerCase() as 'post'](path)
        .type('form')
        .send({ _csrf: csrf, name: 'Changed', role: 'company_admin', email: 'new@example.test' });
      const htmx = await agent[method.toLowerCase() as 'post'](path)
        .set('HX-Request', 'true')
        .set('X-CSRF-Token', csrf)
        .type('form')
        .send({ name: 'Changed' });
      for (const res of [form, htmx]) if (res.status !== 403) allowed.push(`${route}: ${res.status}`);
    }
    // unsafe methods that no route answers are refused just the same
    for (const method of ['put', 'patch', 'delete'] as const) {
      const res = await agent[method](`/assets/${truck.id}`).set('X-CSRF-Token', csrf).send({});
      if (res.status !== 403) allowed.push(`${method.toUpperCase()} /assets/:id: ${res.status}`);
    }
    expect(allowed).toEqual([]);
    expect(await counts()).toEqual(before);
    // still viewing: a refusal does not end the view
    expect(await viewing(agent)).toBe(true);
  }, 120_000);

  it(`says why on the refusal page, and refuses the person's own account changes and a role switch`, async () => {
    const person = await newOwner();
    const { agent, csrf } = await startView(admin, person);
    const res = await agent
      .post('/settings/password')
      .type('form')
      .send({ _csrf: csrf, current: TEST_PASSWORD, password: 'x'.repeat(20), passwordConfirm: 'x'.repeat(20) });
    expect(res.status).toBe(403);
    expect(res.text).toContain('viewing as someone else');
    expect((await agent.post('/session/membership').type('form').send({ _csrf: csrf })).status).toBe(403);
    // nor does the view list the person's other accounts (another provider's among them)
    expect((await agent.get('/session/membership')).status).toBe(403);
    // nor the person's two-factor page, which would make a new secret for their login
    expect((await agent.get('/settings/two-factor')).status).toBe(403);
    // signing in as someone else over the view is an unsafe request too
    expect((await agent.post('/login').type('form').send({ _csrf: csrf, email: person.email })).status).toBe(403);
  });

  it('gives the integration API nothing: a session is not a key', async () => {
    const person = await newOwner();
    const { agent } = await startView(support, person);
    expect((await agent.get('/api/v1/key')).status).toBe(401);
  });
});

describe('a view ends', () => {
  it(`with End: back on the person's staff page, audited once under the staff member's name`, async () => {
    const person = await newOwner();
    const { agent, csrf } = await startView(support, person);
    const res = await agent.post('/view-as/end').type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/admin/customers/${acme.id}/users/${person.id}`);
    const back = await agent.get(res.headers.location!);
    expect(back.status).toBe(200);
    expect(back.text).not.toContain('Viewing as');
    // a second End, from a page still open: nothing more to end, nothing more in the log
    const again = await agent
      .post('/view-as/end')
      .type('form')
      .send({ _csrf: csrfFrom(back.text) });
    expect(again.status).toBe(303);
    const log = await auditOf(person.id);
    expect(log.map((e) => [e.action, e.actor_label.includes('Sam Support')])).toEqual([
      ['user.view_as_started', true],
      ['user.view_as_ended', true],
    ]);
    expect(log[1]!.after).toMatchObject({ reason: 'ended' });
  });

  it('by itself after 30 minutes, checked on the server with every request, audited once', async () => {
    const person = await newOwner();
    const { agent, csrf } = await startView(support, person);
    clock.advance(29 * 60_000);
    expect(await viewing(agent)).toBe(true);
    clock.advance(60_000);
    // a write sent as the view ends is refused, not done as the staff member
    const late = await agent.post(`/admin/customers/${acme.id}/users/${person.id}/view-as`).type('form').send({
      _csrf: csrf,
    });
    expect(late.status).toBe(403);
    // the staff member is themselves again: their own pages, no banner, and not the person's
    const page = await agent.get('/admin/customers');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('Viewing as');
    expect((await agent.get('/assets')).status).toBe(403);
    const log = await auditOf(person.id);
    expect(log.map((e) => e.action)).toEqual(['user.view_as_started', 'user.view_as_ended']);
    expect(log[1]!.after).toMatchObject({ reason: 'expired' });
  });

  it('when the lapsed view is met by two requests at once: one end in the log', async () => {
    const person = await newOwner();
    const { agent } = await startView(support, person);
    clock.advance(31 * 60_000);
    const [a, b] = await Promise.all([agent.get('/assets'), agent.get('/groups')]);
    expect([a.status, b.status]).toEqual([303, 303]);
    expect((await auditOf(person.id)).filter((e) => e.action === 'user.view_as_ended').length).toBe(1);
  });

  it('when the person signs out everywhere else: the staff member stays signed in as themselves', async () => {
    const person = await newOwner();
    const { agent } = await startView(support, person);
    const own = await signedInAgent(app, person.email, TEST_PASSWORD);
    const settings = await own.agent.get('/settings');
    expect(settings.text).toContain('Sam Support (staff) viewing as you');
    clock.advance(1000);
    const res = await own.agent.post('/settings/other-sessions/delete').type('form').send({ _csrf: own.csrf });
    expect(res.status).toBeLessThan(400);
    expect(await viewing(agent)).toBe(false);
    expect((await agent.get('/admin/customers')).status).toBe(200);
    expect((await auditOf(person.id)).at(-1)).toMatchObject({
      action: 'user.view_as_ended',
      after: expect.objectContaining({ reason: 'no_longer_allowed' }),
    });
  });

  it('when the person ends it from their session list, which ends the view and not the staff sign-in', async () => {
    const person = await newOwner();
    const { agent } = await startView(support, person);
    const own = await signedInAgent(app, person.email, TEST_PASSWORD);
    const settings = await own.agent.get('/settings');
    const m = /action="\/settings\/sessions\/([0-9a-f]+)\/delete"[\s\S]*?End view/.exec(settings.text);
    expect(m).not.toBeNull();
    const res = await own.agent.post(`/settings/sessions/${m![1]}/delete`).type('form').send({ _csrf: own.csrf });
    expect(res.status).toBeLessThan(400);
    expect(await viewing(agent)).toBe(false);
    expect((await agent.get('/admin/customers')).status).toBe(200);
    expect((await auditOf(person.id)).at(-1)).toMatchObject({
      action: 'user.view_as_ended',
      after: expect.objectContaining({ reason: 'ended_by_person' }),
    });
  });

  it(`when staff end the person's sessions, or disable them`, async () => {
    const person = await newOwner();
    const { agent } = await startView(support, person);
    const boss = await signedInAgent(app, admin.email, TEST_PASSWORD);
    clock.advance(1000);
    const ended = await boss.agent
      .post(`/admin/customers/${acme.id}/users/${person.id}/sessions/delete`)
      .type('form')
      .send({ _csrf: boss.csrf });
    expect(ended.status).toBe(303);
    expect(await viewing(agent)).toBe(false);

    const next = await newOwner();
    const second = await startView(support, next);
    await db('memberships').where({ id: next.membershipId }).update({ disabled_at: clock.now() });
    expect(await viewing(second.agent)).toBe(false);
    expect((await second.agent.get('/admin/customers')).status).toBe(200);
  });

  it(`when the staff member's own sessions are ended: signed out altogether`, async () => {
    const person = await newOwner();
    const staff = await makeUser(db, { tenantId: tenant.id, role: 'support_agent' });
    const { agent } = await startView(staff, person);
    clock.advance(1000);
    await revokeSessionsOfUser(db, staff.id, clock.now());
    const res = await agent.get('/assets');
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login/);
  });

  it('when the staff member signs out, audited as such', async () => {
    const person = await newOwner();
    const { agent, csrf } = await startView(support, person);
    const res = await agent.post('/logout').type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect((await auditOf(person.id)).at(-1)).toMatchObject({
      action: 'user.view_as_ended',
      after: expect.objectContaining({ reason: 'signed_out' }),
    });
  });
});
