import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { decode, fieldError } from '../support/forms.js';

/**
 * Adding a person whose email already has a login elsewhere: the admin's answer, page and mail are
 * those of a new address, and the login accepts the invitation with its own password.
 */

const { db } = await testDatabase();
await seedDemo(db);
const clock = fixedClock('2026-12-06T12:00:00Z');
const { app } = testApp({ db, clock });
const northwind = demoId('customer:northwind');
const tab = `/admin/customers/${northwind}/users`;

const admin = await signedInAgent(app, 'admin@demo.test');
const owner = await signedInAgent(app, 'owner@northwind.test');

// a login that belongs to another provider only
const elsewhere = await makeTenant(db, { name: 'Elsewhere Telecom' });
const elsewhereCustomer = await makeCustomer(db, elsewhere.id, { title: 'Elsewhere Haulage' });

type Agent = Awaited<ReturnType<typeof signedInAgent>>;
let seq = 0;
const unique = () => `${++seq}-${Date.now().toString(36)}`;
async function loginElsewhere() {
  return makeUser(
    db,
    { tenantId: elsewhere.id, role: 'company_admin', customerId: elsewhereCustomer.id },
    { email: `Known.${unique()}@elsewhere.test`, name: 'Their Own Name' },
  );
}
const newAddress = () => `new.${unique()}@elsewhere.test`;

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** An answer with what must differ between two people (their address, ids, tokens) taken out. */
const normalise = (text: string, email: string) =>
  text
    .split(email)
    .join('EMAIL')
    .replace(UUID, 'ID')
    .replace(/\/activate\/[A-Za-z0-9_-]+/g, '/activate/TOKEN')
    .replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value="CSRF"')
    .replace(/"X-CSRF-Token": "[^"]+"/g, '"X-CSRF-Token": "CSRF"');
const HEADERS = ['content-type', 'cache-control', 'vary', 'content-security-policy', 'referrer-policy'];
const headersOf = (res: supertest.Response) => HEADERS.map((h) => res.headers[h]);
const lastMailTo = (email: string) =>
  db('outbox').where({ recipient: email }).orderBy('id', 'desc').first('subject', 'body_text', 'kind');
const linkInMail = (text: string) => /https?:\/\/[^\s]+(\/activate\/[A-Za-z0-9_-]+)/.exec(text)![1]!;
const linkOnPage = (html: string) =>
  new URL(decode(/id="activation-link"[^>]*value="([^"]+)"/.exec(html)![1]!)).pathname;

const post = (who: Agent, path: string, fields: Record<string, string>) =>
  who.agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: who.csrf });

/** Adds a person and follows the answer as the admin's browser would, returning all the admin sees. */
async function addAndFollow(who: Agent, path: string, email: string, activation: 'email' | 'link') {
  const fields = { name: 'Ivy Invitee', email, role: 'group_supervisor', activation, customerId: northwind };
  const res = await post(who, path, fields);
  const page = res.status === 303 ? await who.agent.get(res.headers.location!) : res;
  const list = await who.agent.get(`${path}?q=${encodeURIComponent(email)}`);
  return { res, page, list, mail: await lastMailTo(email) };
}

/** Opens a link in a client (a fresh one unless given) and submits its form with these fields. */
async function submitLink(path: string, fields: Record<string, string>, client = supertest.agent(app)) {
  const form = await client.get(path);
  const csrf = csrfFrom(form.status === 200 ? form.text : (await client.get('/login')).text);
  const res = await client
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: csrf });
  return { client, form, res };
}

const membershipOf = (userId: string) =>
  db('memberships').where({ user_id: userId, customer_id: northwind }).first('id', 'invited_at', 'disabled_at');

describe('adding a person whose email has a login at another provider', () => {
  for (const [who, path] of [
    ['a tenant admin', tab],
    ['a company admin', '/users'],
  ] as const) {
    for (const activation of ['email', 'link'] as const) {
      it(`answers ${who} (${activation}) exactly as for a new address: status, headers, pages and mail`, async () => {
        const agent = who === 'a tenant admin' ? admin : owner;
        const known = await loginElsewhere();
        const fresh = newAddress();
        const a = await addAndFollow(agent, path, known.email, activation);
        const b = await addAndFollow(agent, path, fresh, activation);
        expect(a.res.status).toBe(activation === 'email' ? 303 : 201);
        expect(a.res.status).toBe(b.res.status);
        expect(normalise(a.res.headers.location ?? '', known.email)).toBe(
          normalise(b.res.headers.location ?? '', fresh),
        );
        expect(headersOf(a.res)).toEqual(headersOf(b.res));
        expect(normalise(a.page.text, known.email)).toBe(normalise(b.page.text, fresh));
        expect(normalise(a.list.text, known.email)).toBe(normalise(b.list.text, fresh));
        expect(a.page.text).not.toContain('Their Own Name');
        expect(a.page.text).toContain('Pending activation');
        if (activation === 'email') {
          expect(a.mail).toBeTruthy();
          expect(normalise(a.mail.subject, known.email)).toBe(normalise(b.mail.subject, fresh));
          expect(normalise(a.mail.body_text, known.email)).toBe(normalise(b.mail.body_text, fresh));
        } else {
          expect(a.mail).toBeUndefined();
          expect(b.mail).toBeUndefined();
          expect(linkOnPage(a.page.text)).toMatch(/^\/activate\/[A-Za-z0-9_-]{40,}$/);
        }
        // the login itself is untouched: its name, status and password stay its own
        const login = await db('users').where({ id: known.id }).first('name', 'status', 'password_hash');
        expect(login).toMatchObject({ name: 'Their Own Name', status: 'active' });
        expect(await membershipOf(known.id)).toMatchObject({ invited_at: expect.any(Date) });
      });
    }
  }

  it('still refuses, next to the field, an address that already has access to this very customer', async () => {
    const res = await post(admin, tab, {
      name: 'Olivia Again',
      email: 'OWNER@northwind.test',
      role: 'group_supervisor',
      activation: 'email',
    });
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'email')).toBe('This person already has access here. Find them in the list of users.');
  });

  it('gives an invited membership no access until it is accepted, and no place in the switcher', async () => {
    const known = await loginElsewhere();
    await addAndFollow(admin, tab, known.email, 'email');
    const them = await signedInAgent(app, known.email, TEST_PASSWORD);
    const choices = await them.agent.get('/session/membership');
    expect(choices.text).not.toContain('Northwind Logistics');
    const m = await membershipOf(known.id);
    const res = await them.agent
      .post('/session/membership')
      .type('form')
      .send({ membership_id: m.id, _csrf: them.csrf });
    expect(res.status).toBe(404);
  });
});

describe('accepting an invitation', () => {
  async function invite() {
    const known = await loginElsewhere();
    await addAndFollow(admin, tab, known.email, 'email');
    const link = linkInMail((await lastMailTo(known.email)).body_text);
    return { known, link };
  }

  it('asks the existing login for its password, refuses a wrong one, and keeps the invitation waiting', async () => {
    const { known, link } = await invite();
    const { form, res } = await submitLink(link, { password: 'not the right password at all' });
    expect(form.status).toBe(200);
    expect(form.text).toContain('<h1>Accept your new account</h1>');
    expect(form.text).toContain('autocomplete="current-password"');
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'password')).toBe('That is not the password of this login.');
    expect(await membershipOf(known.id)).toMatchObject({ invited_at: expect.any(Date) });
    expect((await supertest(app).get(link)).status).toBe(200);
  });

  it("cannot be accepted from another person's session with that person's password", async () => {
    const { known, link } = await invite();
    const { res } = await submitLink(link, { password: 'portico-demo' }, owner.agent);
    expect(res.status).toBe(422);
    expect(await membershipOf(known.id)).toMatchObject({ invited_at: expect.any(Date) });
    // the owner is still themselves
    expect((await owner.agent.get('/settings')).text).toContain('owner@northwind.test');
  });

  it('with the login’s own password: signs it in to the new account, which the switcher then lists', async () => {
    const { known, link } = await invite();
    const { client, res } = await submitLink(link, { password: TEST_PASSWORD });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    const m = await membershipOf(known.id);
    expect(m).toMatchObject({ invited_at: null, disabled_at: null });
    const home = await client.get('/').redirects(3);
    expect(home.status).toBe(200);
    expect(home.text).toContain('Northwind Logistics');
    const choices = await client.get('/session/membership');
    expect(choices.text).toContain('Northwind Logistics');
    expect(choices.text).toContain('Elsewhere Haulage');
    // the admin now sees the person as they are
    const list = await admin.agent.get(`${tab}?q=${encodeURIComponent(known.email)}`);
    expect(list.text).toContain('Their Own Name');
    const audit = await db('audit_log').where({ action: 'user.invitation_accepted', entity_id: known.id }).first('id');
    expect(audit).toBeTruthy();
    // the link worked once: a used link is a 404 page
    const again = await submitLink(link, { password: TEST_PASSWORD });
    expect(again.form.status).toBe(404);
    expect(again.res.status).toBe(404);
  });

  it('refuses an invitation link past its seven days', async () => {
    const late = fixedClock('2026-12-06T12:00:00Z');
    const lateApp = testApp({ db, clock: late }).app;
    const lateAdmin = await signedInAgent(lateApp, 'admin@demo.test');
    const known = await loginElsewhere();
    const created = await post(lateAdmin, tab, {
      name: 'Lou Late',
      email: known.email,
      role: 'site_viewer',
      activation: 'link',
    });
    const link = linkOnPage(created.text);
    late.advance(7 * 24 * 60 * 60 * 1000 + 1000);
    const res = await supertest(lateApp).get(link);
    expect(res.status).toBe(410);
    const post2 = await supertest.agent(lateApp).post(link).type('form').send({ password: TEST_PASSWORD });
    expect([403, 410]).toContain(post2.status);
    expect(await membershipOf(known.id)).toMatchObject({ invited_at: expect.any(Date) });
  });

  it('withdrawing a waiting invitation leaves the login and its other account alone', async () => {
    const { known } = await invite();
    const m = await membershipOf(known.id);
    const res = await post(admin, `${tab}/${known.id}/delete`, {});
    expect([303, 200]).toContain(res.status);
    expect(await db('memberships').where({ id: m.id }).first('id')).toBeUndefined();
    expect(await db('users').where({ id: known.id }).first('status')).toMatchObject({ status: 'active' });
    expect(await signedInAgent(app, known.email, TEST_PASSWORD)).toBeTruthy();
  });
});
