import type supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeGroup, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/**
 * Revoking sessions sticks whatever is in flight: a request that loaded a session before the
 * revocation must not bring it back when it ends, nor may a copy of the session's row.
 */

const { db } = await testDatabase();
const clock = fixedClock('2026-12-06T09:00:00Z');
const { app } = testApp({ db, clock });
const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Acme Freight' });
const group = await makeGroup(db, customer);
await makeAsset(db, { group });
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const newCompanyAdmin = () => makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });

const NEW_PASSWORD = 'a brand new passphrase for acme';
type Agent = ReturnType<typeof supertest.agent>;

/** Whether the cookie still signs its holder in: a signed-out one is sent to the sign-in page. */
async function signedIn(agent: Agent): Promise<boolean> {
  const res = await agent.get('/settings');
  if (res.status === 200) return true;
  expect(res.status).toBe(303);
  expect(res.headers.location).toMatch(/^\/login/);
  return false;
}

async function changePassword(agent: Agent, csrf: string) {
  const res = await agent
    .post('/settings/password')
    .type('form')
    .send({ current: TEST_PASSWORD, password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD, _csrf: csrf });
  expect(res.status).toBe(303);
}

/** The stored rows of a user's sessions, as a copy could have kept them. */
const sessionRows = (userId: string) => db('session').where({ user_id: userId }).select('sid', 'sess', 'expire');

async function waitUntilBlocked(table: string) {
  for (;;) {
    const { n } = (await db('pg_locks')
      .whereRaw('relation = ?::regclass', [table])
      .where({ granted: false })
      .count({ n: '*' })
      .first()) as { n: number };
    if (n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a session ended while one of its requests is still running', () => {
  it('stays ended when its slow request finishes: the old cookie is refused after a password change', async () => {
    const user = await newCompanyAdmin();
    const thief = await signedInAgent(app, user.email, TEST_PASSWORD);
    const owner = await signedInAgent(app, user.email, TEST_PASSWORD);
    // a while later, so the thief's next request records activity and saves the session when it ends
    clock.advance(2 * 60_000);

    // the thief's CSV download is held up inside the export, its session long loaded
    const hold = await db.transaction();
    await hold.raw('lock table assets in access exclusive mode');
    const download = thief.agent.get('/assets.csv').then((res) => res);
    await waitUntilBlocked('assets');

    // the owner changes the password on another device: every other session ends
    await changePassword(owner.agent, owner.csrf);
    expect((await sessionRows(user.id)).length).toBe(1);

    await hold.commit();
    expect((await download).status).toBe(200);
    expect(await signedIn(thief.agent)).toBe(false);
    expect(await signedIn(owner.agent)).toBe(true);
  });

  it('refuses a copy of a session row stored before the password changed', async () => {
    const user = await newCompanyAdmin();
    const thief = await signedInAgent(app, user.email, TEST_PASSWORD);
    const [copy] = await sessionRows(user.id);
    clock.advance(60_000);
    const owner = await signedInAgent(app, user.email, TEST_PASSWORD);
    clock.advance(60_000);
    await changePassword(owner.agent, owner.csrf);

    await db('session').insert(copy);
    expect(await signedIn(thief.agent)).toBe(false);
    expect(await signedIn(owner.agent)).toBe(true);
  });

  it('refuses sessions from before "sign out everywhere else", and keeps the one that asked', async () => {
    const user = await newCompanyAdmin();
    const other = await signedInAgent(app, user.email, TEST_PASSWORD);
    const [copy] = await sessionRows(user.id);
    clock.advance(60_000);
    const me = await signedInAgent(app, user.email, TEST_PASSWORD);
    clock.advance(60_000);
    const res = await me.agent.post('/settings/other-sessions/delete').type('form').send({ _csrf: me.csrf });
    expect(res.status).toBe(303);

    await db('session').insert(copy);
    expect(await signedIn(other.agent)).toBe(false);
    expect(await signedIn(me.agent)).toBe(true);
  });

  it('keeps a disabled user signed out after they are enabled again, whatever was saved meanwhile', async () => {
    const user = await newCompanyAdmin();
    const staff = await signedInAgent(app, admin.email, TEST_PASSWORD);
    const them = await signedInAgent(app, user.email, TEST_PASSWORD);
    const [copy] = await sessionRows(user.id);
    clock.advance(60_000);
    const edit = (status: string) =>
      staff.agent
        .post(`/admin/customers/${customer.id}/users/${user.id}`)
        .type('form')
        .send({ name: user.name, role: 'company_admin', status, _csrf: staff.csrf });
    expect((await edit('disabled')).status).toBe(303);
    await db('session').insert(copy);
    expect((await edit('active')).status).toBe(303);
    expect(await signedIn(them.agent)).toBe(false);
  });
});

describe('staff end a user’s sessions', () => {
  const userPage = (userId: string) => `/admin/customers/${customer.id}/users/${userId}`;

  it('offers "End all sessions" on the user page, asks first, then the user’s cookie no longer works', async () => {
    const user = await newCompanyAdmin();
    const them = await signedInAgent(app, user.email, TEST_PASSWORD);
    const also = await signedInAgent(app, user.email, TEST_PASSWORD);
    const copies = await sessionRows(user.id);
    clock.advance(60_000);
    const staff = await signedInAgent(app, admin.email, TEST_PASSWORD);

    const page = await staff.agent.get(userPage(user.id));
    expect(page.status).toBe(200);
    expect(page.text).toContain(`href="${userPage(user.id)}/sessions/delete"`);
    expect(page.text).toContain('End all sessions');
    const confirm = await staff.agent.get(`${userPage(user.id)}/sessions/delete`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain(`action="${userPage(user.id)}/sessions/delete"`);
    expect(confirm.text).toContain('2 sessions');
    // opening the confirmation ends nothing
    expect(await signedIn(them.agent)).toBe(true);

    const done = await staff.agent
      .post(`${userPage(user.id)}/sessions/delete`)
      .type('form')
      .send({ _csrf: csrfFrom(confirm.text) });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe(userPage(user.id));
    expect((await staff.agent.get(userPage(user.id))).text).toContain(`Ended 2 sessions of ${user.name}.`);

    expect(await signedIn(them.agent)).toBe(false);
    expect(await signedIn(also.agent)).toBe(false);
    // nor do copies of their rows stored before bring them back
    await db('session').insert(copies);
    expect(await signedIn(them.agent)).toBe(false);
    expect(await signedIn(also.agent)).toBe(false);
    // the person signs in again as usual
    expect(await signedIn((await signedInAgent(app, user.email, TEST_PASSWORD)).agent)).toBe(true);
  });

  it('writes the ending to the customer’s audit log, naming the staff member', async () => {
    const user = await newCompanyAdmin();
    await signedInAgent(app, user.email, TEST_PASSWORD);
    const staff = await signedInAgent(app, admin.email, TEST_PASSWORD);
    await staff.agent
      .post(`${userPage(user.id)}/sessions/delete`)
      .type('form')
      .send({ _csrf: staff.csrf });
    const entry = await db('audit_log')
      .where({ tenant_id: tenant.id, customer_id: customer.id, entity_id: user.id, action: 'user.sessions_ended' })
      .first('actor_user_id', 'after');
    expect(entry).toMatchObject({ actor_user_id: admin.id, after: { sessionsEnded: 1 } });
    const audit = await staff.agent.get(`/admin/customers/${customer.id}/audit`);
    expect(audit.text).toContain('user.sessions_ended');
  });

  it('leaves the person’s sessions with another provider alone', async () => {
    const user = await newCompanyAdmin();
    const elsewhere = await makeTenant(db);
    const otherCustomer = await makeCustomer(db, elsewhere.id);
    await db('memberships').insert({
      tenant_id: elsewhere.id,
      user_id: user.id,
      role: 'company_admin',
      customer_id: otherCustomer.id,
    });
    // signed in first with the membership here, then switched to the other provider's customer
    const there = await signedInAgent(app, user.email, TEST_PASSWORD);
    const here = await signedInAgent(app, user.email, TEST_PASSWORD);
    const choices = await there.agent.get('/session/membership');
    const membershipId = (await db('memberships').where({ tenant_id: elsewhere.id, user_id: user.id }).first('id'))
      .id as string;
    expect(choices.text).toContain(`value="${membershipId}"`);
    const switched = await there.agent
      .post('/session/membership')
      .type('form')
      .send({ membership_id: membershipId, _csrf: csrfFrom(choices.text) });
    expect(switched.status).toBe(303);

    clock.advance(60_000);
    const staff = await signedInAgent(app, admin.email, TEST_PASSWORD);
    const done = await staff.agent
      .post(`${userPage(user.id)}/sessions/delete`)
      .type('form')
      .send({ _csrf: staff.csrf });
    expect(done.status).toBe(303);
    expect(await signedIn(here.agent)).toBe(false);
    expect(await signedIn(there.agent)).toBe(true);
  });

  it('answers 404 for a user of another customer', async () => {
    const stranger = await makeUser(db, {
      tenantId: tenant.id,
      role: 'company_admin',
      customerId: (await makeCustomer(db, tenant.id)).id,
    });
    const them = await signedInAgent(app, stranger.email, TEST_PASSWORD);
    const staff = await signedInAgent(app, admin.email, TEST_PASSWORD);
    const res = await staff.agent
      .post(`${userPage(stranger.id)}/sessions/delete`)
      .type('form')
      .send({ _csrf: staff.csrf });
    expect(res.status).toBe(404);
    expect(await signedIn(them.agent)).toBe(true);
  });
});
