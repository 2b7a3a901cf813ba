import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/**
 * Issue 17 item 12 from the attacker's side: an admin of one provider probing whether an address has a
 * login at another one, through every screen that adds or lists people, and someone trying to take an
 * invitation that is not theirs.
 */

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db, clock: fixedClock('2026-12-06T12:00:00Z') });
const northwind = demoId('customer:northwind');
const bluewave = demoId('partner:bluewave');
const admin = await signedInAgent(app, 'admin@demo.test');
const owner = await signedInAgent(app, 'owner@northwind.test');

const otherTenant = await makeTenant(db, { name: 'Rival Telecom' });
const otherCustomer = await makeCustomer(db, otherTenant.id, { title: 'Rival Haulage' });
let seq = 0;
const unique = () => `${++seq}-${Date.now().toString(36)}`;
const rivalLogin = () =>
  makeUser(
    db,
    { tenantId: otherTenant.id, role: 'company_admin', customerId: otherCustomer.id },
    { email: `probe.${unique()}@rival.test`, name: 'Secret Rival Name' },
  );

type Agent = Awaited<ReturnType<typeof signedInAgent>>;
const post = (who: Agent, path: string, fields: Record<string, string>) =>
  who.agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: who.csrf });
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const normalise = (text: string, email: string) =>
  text
    .split(email)
    .join('EMAIL')
    .replace(UUID, 'ID')
    .replace(/\/activate\/[A-Za-z0-9_-]+/g, '/activate/TOKEN')
    .replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value="CSRF"');
const linkOf = async (email: string) => {
  const mail = await db('outbox').where({ recipient: email }).orderBy('id', 'desc').first('body_text');
  return /https?:\/\/[^\s]+(\/activate\/[A-Za-z0-9_-]+)/.exec(mail.body_text)![1]!;
};

describe('an admin probing for logins at another provider', () => {
  it('adding a partner viewer answers the same for a login elsewhere as for a new address', async () => {
    const probe = await rivalLogin();
    const fresh = `fresh.${unique()}@rival.test`;
    const add = (email: string) =>
      post(admin, `/admin/partners/${bluewave}/users`, { name: 'Pat Partner', email, activation: 'link' });
    const a = await add(probe.email);
    const b = await add(fresh);
    expect(a.status).toBe(201);
    expect(a.status).toBe(b.status);
    // the partner page lists both people added; each answer names only its own. Its own row (read as EMAIL)
    // is compared on its own: the list sorts by name, then by a random id, so where it falls among people
    // of the same name is chance, not a signal.
    const row = new RegExp(`<tr>(?:(?!</tr>)[\\s\\S])*?(${fresh}|${probe.email}|EMAIL)[\\s\\S]*?</tr>`, 'g');
    const answerOf = (html: string, email: string) => {
      const text = normalise(html, email).replace(/\s+/g, ' ');
      return {
        own: text.match(row)?.filter((r) => r.includes('EMAIL')),
        rest: text.replace(row, '').replace(/\s+/g, ' '),
      };
    };
    const [ofProbe, ofFresh] = [answerOf(a.text, probe.email), answerOf(b.text, fresh)];
    expect(ofProbe.own).toHaveLength(1);
    expect(ofProbe.own).toEqual(ofFresh.own);
    expect(ofProbe.rest).toBe(ofFresh.rest);
    expect(a.text).not.toContain('Secret Rival Name');
    const page = await admin.agent.get(`/admin/partners/${bluewave}`);
    expect(page.text).not.toContain('Secret Rival Name');
    expect(page.text).toContain(probe.email);
  });

  it('the group type-ahead and the users search show only what the admin typed for an invited login', async () => {
    const probe = await rivalLogin();
    const res = await post(owner, '/users', {
      name: 'Typed Name',
      email: probe.email,
      role: 'group_supervisor',
      activation: 'email',
      customerId: northwind,
    });
    expect(res.status).toBe(303);
    const group = await db('groups').where({ customer_id: northwind, name: 'Trucks' }).first('id');
    const byRealName = await owner.agent.get(`/groups/${group.id}/user-options?q=Secret`);
    expect(byRealName.text).not.toContain(probe.email);
    expect(byRealName.text).not.toContain('Secret Rival Name');
    const byTyped = await owner.agent.get(`/groups/${group.id}/user-options?q=Typed`);
    expect(byTyped.text).toContain('Typed Name');
    expect((await owner.agent.get('/users?q=Secret')).text).not.toContain(probe.email);
    expect((await owner.agent.get('/users?q=Typed')).text).toContain(probe.email);
  });

  it('inviting a login leaves the links another provider issued to it working (row-level security)', async () => {
    const pending = await makeUser(
      db,
      { tenantId: otherTenant.id, role: 'company_admin', customerId: otherCustomer.id },
      { email: `pending.${unique()}@rival.test`, status: 'pending', password_hash: null },
    );
    const rival = await db('user_tokens')
      .insert({
        user_id: pending.id,
        tenant_id: otherTenant.id,
        purpose: 'activation',
        token_hash: Buffer.alloc(32, seq),
        expires_at: new Date('2026-12-20T00:00:00Z'),
      })
      .returning('id');
    await post(admin, `/admin/customers/${northwind}/users`, {
      name: 'Pending Person',
      email: pending.email,
      role: 'site_viewer',
      activation: 'email',
    });
    const after = await db('user_tokens').where({ id: rival[0].id }).first('revoked_at');
    expect(after.revoked_at).toBeNull();
  });
});

describe('taking an invitation that is not yours', () => {
  it('locks the login after five wrong passwords on the invitation page, as sign-in does', async () => {
    const probe = await rivalLogin();
    await post(admin, `/admin/customers/${northwind}/users`, {
      name: 'Locked Out',
      email: probe.email,
      role: 'site_viewer',
      activation: 'email',
    });
    const link = await linkOf(probe.email);
    const client = supertest.agent(app);
    const csrf = csrfFrom((await client.get(link)).text);
    for (let i = 0; i < 5; i++) {
      const res = await client
        .post(link)
        .type('form')
        .send({ password: `guess number ${i} is wrong`, _csrf: csrf });
      expect(res.status).toBe(422);
    }
    const right = await client.post(link).type('form').send({ password: TEST_PASSWORD, _csrf: csrf });
    expect(right.status).not.toBe(303);
    const m = await db('memberships').where({ user_id: probe.id, customer_id: northwind }).first('invited_at');
    expect(m.invited_at).not.toBeNull();
  });

  it('a session of someone else that accepts with the right password becomes the invited login', async () => {
    const probe = await rivalLogin();
    await post(admin, `/admin/customers/${northwind}/users`, {
      name: 'Right Person',
      email: probe.email,
      role: 'site_viewer',
      activation: 'email',
    });
    const link = await linkOf(probe.email);
    const viewer = await signedInAgent(app, 'viewer@northwind.test');
    const page = await viewer.agent.get(link);
    const res = await viewer.agent
      .post(link)
      .type('form')
      .send({ password: TEST_PASSWORD, _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(303);
    // the session was replaced: it now acts as the invited login in its new account
    const settings = await viewer.agent.get('/settings');
    expect(settings.text).toContain(probe.email);
    expect(settings.text).not.toContain('viewer@northwind.test');
  });
});
