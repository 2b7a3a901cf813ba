import supertest from 'supertest';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { LIVE_VIEW_PERMISSIONS } from '../../src/services/sites/rules.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeSite, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/** Sessions opened with a login link: bound to that link, and to nothing a password sign-in asks for. */

const { db } = await testDatabase();
const clock = fixedClock('2026-12-06T09:00:00Z');
const { app } = testApp({ db, clock });
const tenant = await makeTenant(db, { name: 'Sitewise Services' });
const fleetco = await makeCustomer(db, tenant.id, { title: 'Fleetco' });
const depot = await makeSite(db, tenant.id, { name: 'North Depot', customerId: fleetco.id });
await db('portal_access').insert({
  tenant_id: tenant.id,
  customer_id: fleetco.id,
  enabled: true,
  ...Object.fromEntries(LIVE_VIEW_PERMISSIONS.map((p) => [p, true])),
});
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const staff = await signedInAgent(app, admin.email, TEST_PASSWORD);

async function newViewer() {
  const viewer = await makeUser(db, { tenantId: tenant.id, role: 'site_viewer', customerId: fleetco.id });
  await db('membership_sites').insert({ tenant_id: tenant.id, membership_id: viewer.membershipId, site_id: depot.id });
  return viewer;
}
const userPage = (userId: string) => `/admin/customers/${fleetco.id}/users/${userId}`;
const post = (path: string, fields: Record<string, string> = {}) =>
  staff.agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: staff.csrf });

/** Enables (or refreshes) the viewer's login link; its path, as the staff page shows it once. */
async function enableLink(userId: string): Promise<string> {
  const res = await post(`${userPage(userId)}/login-link`);
  expect(res.status).toBe(200);
  return /id="login-link-field" type="text" readonly value="[^"]*(\/link\/[A-Za-z0-9_-]+)"/.exec(res.text)![1]!;
}

async function openLink(link: string) {
  const agent = supertest.agent(app);
  const res = await agent.get(link);
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/sites');
  return agent;
}

const sessionRows = (userId: string) => db('session').where({ user_id: userId }).select('sid', 'sess', 'expire');

describe('a site viewer whose password staff set', () => {
  it('uses their login link: the site map opens, not "set a new password"', async () => {
    const viewer = await newViewer();
    const typed = 'a handover secret for vic';
    const set = await post(`/admin/customers/${fleetco.id}/billing/contacts/${viewer.id}/password`, {
      passwordMode: 'set',
      password: typed,
    });
    expect(set.status).toBe(303);
    expect((await db('users').where({ id: viewer.id }).first('must_change_password')).must_change_password).toBe(true);

    const visitor = await openLink(await enableLink(viewer.id));
    const map = await visitor.get('/sites');
    expect(map.status).toBe(200);
    expect(map.text).toContain('North Depot');
    expect((await visitor.get(`/sites/${depot.id}`)).status).toBe(200);
    expect((await visitor.get('/sites').set('HX-Request', 'true')).headers['hx-redirect']).toBeUndefined();
    // the page that replaces the password is not theirs to use through the link
    const replace = await visitor.get('/password/new');
    expect(replace.status).toBe(303);
    expect(replace.headers.location).toBe('/sites');
    // still nothing but the site map
    expect((await visitor.get('/settings')).status).toBe(403);

    // signing in with the password staff typed still asks for a new one first
    const withPassword = supertest.agent(app);
    const page = await withPassword.get('/login');
    await withPassword
      .post('/login')
      .type('form')
      .send({ email: viewer.email, password: typed, _csrf: csrfFrom(page.text) });
    expect((await withPassword.get('/sites')).headers.location).toBe('/password/new');
  });
});

describe('a session opened with a login link', () => {
  it('ends when the link is refreshed or disabled, even from a copy of its row', async () => {
    const viewer = await newViewer();
    const first = await openLink(await enableLink(viewer.id));
    const [firstCopy] = await sessionRows(viewer.id);
    const second = await openLink(await enableLink(viewer.id));
    await db('session').insert(firstCopy);
    expect((await first.get('/sites')).status).toBe(303);
    expect((await second.get('/sites')).status).toBe(200);

    const [secondCopy] = await sessionRows(viewer.id);
    expect((await post(`${userPage(viewer.id)}/login-link/delete`)).status).toBe(303);
    await db('session').insert(secondCopy);
    expect((await second.get('/sites')).status).toBe(303);
  });

  it('ends when its link expires', async () => {
    const viewer = await newViewer();
    const link = await enableLink(viewer.id);
    const { expires_at: expiresAt } = await db('user_tokens')
      .where({ user_id: viewer.id, purpose: 'login_link' })
      .whereNull('revoked_at')
      .first('expires_at');
    onTestFinished(() => clock.set('2026-12-06T09:00:00Z'));
    clock.set(new Date(expiresAt.getTime() - 30 * 60_000));
    const visitor = await openLink(link);
    expect((await visitor.get('/sites')).status).toBe(200);
    clock.set(new Date(expiresAt.getTime() + 60_000));
    const after = await visitor.get('/sites');
    expect(after.status).toBe(303);
    expect(after.headers.location).toMatch(/^\/login/);
  });

  it('leaves the viewer’s password sessions alone when the link is refreshed', async () => {
    const viewer = await newViewer();
    const withPassword = await signedInAgent(app, viewer.email, TEST_PASSWORD);
    await openLink(await enableLink(viewer.id));
    await enableLink(viewer.id);
    expect((await withPassword.agent.get('/sites')).status).toBe(200);
  });
});
