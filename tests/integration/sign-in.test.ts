import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const clock = fixedClock('2026-11-24T09:00:00Z');
const { app } = testApp({ db, clock });
const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Acme Freight' });
const newUser = (fields: Parameters<typeof makeUser>[2] = {}) =>
  makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id }, fields);

async function attempt(
  email: string,
  password: string,
  opts: { next?: string; agent?: ReturnType<typeof supertest.agent> } = {},
) {
  const agent = opts.agent ?? supertest.agent(app);
  const page = await agent.get('/login');
  return agent
    .post('/login')
    .type('form')
    .send({ email, password, next: opts.next ?? '', _csrf: csrfFrom(page.text) });
}

describe('signing in with a password', () => {
  it('lands a company admin on their customer home page, with a new session id', async () => {
    const user = await newUser();
    const agent = supertest.agent(app);
    const page = await agent.get('/login');
    const before = /portico\.sid=([^;]+)/.exec(String(page.headers['set-cookie']))![1];
    const res = await agent
      .post('/login')
      .type('form')
      .send({ email: user.email.toUpperCase(), password: TEST_PASSWORD, _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    const after = /portico\.sid=([^;]+)/.exec(String(res.headers['set-cookie']))![1];
    expect(after).not.toBe(before);
    expect((await agent.get('/')).text).toContain('Acme Freight');
  });

  it('returns to the page asked for, but never to another site', async () => {
    const user = await newUser();
    expect((await attempt(user.email, TEST_PASSWORD, { next: '/settings' })).headers.location).toBe('/settings');
    expect((await attempt(user.email, TEST_PASSWORD, { next: '//evil.example/x' })).headers.location).toBe('/');
    expect((await attempt(user.email, TEST_PASSWORD, { next: 'https://evil.example/' })).headers.location).toBe('/');
  });

  it('refuses a wrong password with a message next to the field and keeps the email', async () => {
    const user = await newUser();
    const res = await attempt(user.email, 'wrong password here');
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="f-password-error">The email address or password is not right.<');
    expect(res.text).toContain('aria-invalid="true"');
    expect(res.text).toContain(`value="${user.email}"`);
  });

  it('refuses disabled and not yet activated users as if the password were wrong', async () => {
    const disabled = await newUser({ status: 'disabled' });
    const pending = await newUser({ status: 'pending' });
    // the page a wrong password gets, but for the address typed and the form's token
    const answer = (html: string, email: string) =>
      html.replaceAll(email, 'EMAIL').replace(/name="_csrf" value="[^"]+"|"X-CSRF-Token": "[^"]+"/g, 'TOKEN');
    const active = await newUser();
    const wrong = await attempt(active.email, 'wrong password here');
    for (const user of [disabled, pending]) {
      const res = await attempt(user.email, TEST_PASSWORD);
      expect(res.status).toBe(422);
      expect(answer(res.text, user.email)).toBe(answer(wrong.text, active.email));
    }
  });

  it('locks the account after five wrong passwords in a row: the sixth try is refused even when right', async () => {
    const user = await newUser();
    for (let i = 0; i < 5; i++) expect((await attempt(user.email, `wrong ${i} password`)).status).toBe(422);
    const locked = await attempt(user.email, TEST_PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.text).toContain('Try again in 15 minutes');
    clock.advance(15 * 60_000 + 1000);
    expect((await attempt(user.email, TEST_PASSWORD)).status).toBe(303);
  });

  it('counts only wrong passwords in a row: a success starts the count again', async () => {
    const user = await newUser();
    for (let i = 0; i < 4; i++) await attempt(user.email, 'wrong password!!');
    expect((await attempt(user.email, TEST_PASSWORD)).status).toBe(303);
    for (let i = 0; i < 4; i++) await attempt(user.email, 'wrong password!!');
    expect((await attempt(user.email, TEST_PASSWORD)).status).toBe(303);
  });

  it('blocks an address after more than 100 failures in 15 minutes, whatever the accounts', async () => {
    clock.advance(16 * 60_000); // a fresh window for this address: earlier tests failed from it too
    const user = await newUser();
    const agent = supertest.agent(app);
    const page = await agent.get('/login');
    const csrf = csrfFrom(page.text);
    for (let i = 0; i < 101; i++) {
      const res = await agent
        .post('/login')
        .type('form')
        .send({ email: `nobody-${i}@example.test`, password: 'x', _csrf: csrf });
      expect(res.status).toBe(422);
    }
    const blocked = await agent
      .post('/login')
      .type('form')
      .send({ email: user.email, password: TEST_PASSWORD, _csrf: csrf });
    expect(blocked.status).toBe(429);
    clock.advance(16 * 60_000);
  });
});

describe('sessions', () => {
  it('ends a session after an hour without a request', async () => {
    const user = await newUser();
    const { agent } = await signedInAgent(app, user.email, TEST_PASSWORD);
    clock.advance(59 * 60_000);
    expect((await agent.get('/')).status).toBe(200);
    clock.advance(59 * 60_000); // the request above counted as activity
    expect((await agent.get('/')).status).toBe(200);
    clock.advance(61 * 60_000);
    expect((await agent.get('/')).status).toBe(303);
  });

  it('ends a session after twelve hours however active it is', async () => {
    const user = await newUser();
    const { agent } = await signedInAgent(app, user.email, TEST_PASSWORD);
    for (let i = 0; i < 14; i++) {
      clock.advance(50 * 60_000); // 11 h 40 min of activity in all
      expect((await agent.get('/')).status).toBe(200);
    }
    clock.advance(30 * 60_000);
    expect((await agent.get('/')).status).toBe(303);
  });

  it('destroys the server-side session on sign-out', async () => {
    const user = await newUser();
    const { agent, csrf } = await signedInAgent(app, user.email, TEST_PASSWORD);
    expect(await db('session').where({ user_id: user.id }).count({ n: '*' }).first()).toEqual({ n: 1 });
    await agent.post('/logout').type('form').send({ _csrf: csrf });
    expect(await db('session').where({ user_id: user.id }).count({ n: '*' }).first()).toEqual({ n: 0 });
    expect((await agent.get('/')).status).toBe(303);
  });

  it('signs out a user whose account is disabled, on their very next request', async () => {
    const user = await newUser();
    const { agent } = await signedInAgent(app, user.email, TEST_PASSWORD);
    await db('users').where({ id: user.id }).update({ status: 'disabled' });
    expect((await agent.get('/')).status).toBe(303);
  });
});
