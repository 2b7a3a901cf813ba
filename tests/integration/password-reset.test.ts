import type { ParsedMail } from 'mailparser';
import supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { startSmtpCatcher } from '../support/smtp.js';

const { db } = await testDatabase();
const smtp = await startSmtpCatcher();
afterAll(() => smtp.close());
const clock = fixedClock('2026-11-24T09:00:00Z');
const { app, ctx } = testApp({ db, smtpUrl: smtp.url, clock });
const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Acme Freight' });
const newUser = (fields: Parameters<typeof makeUser>[2] = {}) =>
  makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id }, fields);

const NEW_PASSWORD = 'a fresh and long passphrase';
const recipient = (m: ParsedMail) => (Array.isArray(m.to) ? m.to[0]?.text : m.to?.text) ?? '';

async function askForReset(email: string, application = app, headers: Record<string, string> = {}) {
  const agent = supertest.agent(application);
  const page = await agent.get('/password/forgot').set(headers);
  return agent
    .post('/password/forgot')
    .set(headers)
    .type('form')
    .send({ email, _csrf: csrfFrom(page.text) });
}

/** The path of the reset link in the newest mail to `email`, once the outbox has delivered it. */
async function resetPathFor(email: string): Promise<string> {
  await ctx.mailPump.idle();
  const mail =
    smtp.messages.filter((m) => recipient(m) === email).at(-1) ?? (await smtp.waitFor((m) => recipient(m) === email));
  const link = /(https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]+)/.exec(mail.text ?? '')![1]!;
  return new URL(link).pathname;
}

async function setPassword(path: string, password: string, passwordConfirm = password) {
  const agent = supertest.agent(app);
  const page = await agent.get(path);
  const csrf = csrfFrom(page.status === 200 ? page.text : (await agent.get('/login')).text);
  return agent.post(path).type('form').send({ password, passwordConfirm, _csrf: csrf });
}

async function signIn(email: string, password: string) {
  const agent = supertest.agent(app);
  const page = await agent.get('/login');
  return agent
    .post('/login')
    .type('form')
    .send({ email, password, _csrf: csrfFrom(page.text) });
}

const withoutTokens = (html: string) => html.replace(/[A-Za-z0-9_-]{40,}/g, 'TOKEN');

describe('asking for a password reset', () => {
  it('answers a known and an unknown address with the same page, and mails a link only to the known one', async () => {
    const user = await newUser();
    const known = await askForReset(user.email);
    const unknown = await askForReset('nobody-here@example.test');
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(known.status);
    expect(known.text).toContain('If an account exists for');
    expect(withoutTokens(unknown.text).replace('nobody-here@example.test', 'ADDRESS')).toBe(
      withoutTokens(known.text).replace(user.email, 'ADDRESS'),
    );

    await ctx.mailPump.idle();
    const mail = await smtp.waitFor((m) => recipient(m) === user.email);
    expect(mail.subject).toBe('Reset your Portico password');
    expect(mail.text).toMatch(/\/password\/reset\/[A-Za-z0-9_-]{40,}/);
    expect(mail.text).toContain('expires in one hour');
    expect(mail.text).toContain('works only once');
    expect(mail.text).toContain('ignore this message');
    expect(smtp.messages.some((m) => recipient(m) === 'nobody-here@example.test')).toBe(false);
  });

  it('does the same token and database work for an unknown address as for a known one, writing nothing', async () => {
    const user = await newUser();
    const tokenStatements = async (email: string) => {
      const seen: string[] = [];
      const listen = (q: { sql: string }) => {
        if (q.sql.includes('user_tokens')) seen.push(q.sql.split(' ')[0]!.toLowerCase());
      };
      db.on('query', listen);
      const res = await askForReset(email);
      db.off('query', listen);
      return { res, seen };
    };
    const tokensBefore = await db('user_tokens').count<{ n: string }[]>({ n: '*' });
    const unknown = await tokenStatements('no-such-person@example.test');
    expect(await db('user_tokens').count<{ n: string }[]>({ n: '*' })).toEqual(tokensBefore);
    const known = await tokenStatements(user.email);
    // revoke the earlier links, then write (known) or look up (unknown) one token: as many round trips each
    expect(known.seen).toEqual(['update', 'insert']);
    expect(unknown.seen).toEqual(['update', 'select']);
    expect(unknown.res.status).toBe(known.res.status);
    expect(unknown.res.headers['content-type']).toBe(known.res.headers['content-type']);
  });

  it('sends nothing to a user who is not active, with the same answer', async () => {
    const pending = await newUser({ status: 'pending', password_hash: null });
    const disabled = await newUser({ status: 'disabled' });
    for (const u of [pending, disabled]) {
      const res = await askForReset(u.email);
      expect(res.status).toBe(200);
      expect(res.text).toContain('If an account exists for');
    }
    await ctx.mailPump.idle();
    expect(smtp.messages.some((m) => [pending.email, disabled.email].includes(recipient(m)))).toBe(false);
  });

  it('asks for an email address when the field is empty, next to the field', async () => {
    const res = await askForReset('');
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="f-email-error"');
    expect(res.text).toContain('aria-invalid="true"');
  });

  it('after five links in an hour, answers the same page for the account but sends no more', async () => {
    const user = await newUser();
    for (let i = 0; i < 6; i++) {
      const res = await askForReset(user.email);
      expect(res.status).toBe(200);
      expect(res.text).toContain('If an account exists for');
    }
    await ctx.mailPump.idle();
    expect(smtp.messages.filter((m) => recipient(m) === user.email)).toHaveLength(5);
  });

  it('tells an address that asks too often to try again in some minutes', async () => {
    const { app: proxied } = testApp({ db, smtpUrl: smtp.url, clock, env: { TRUST_PROXY: '1' } });
    const from = { 'X-Forwarded-For': '203.0.113.9' };
    for (let i = 0; i < 30; i++)
      expect((await askForReset(`someone-${i}@example.test`, proxied, from)).status).toBe(200);
    const refused = await askForReset('someone-else@example.test', proxied, from);
    expect(refused.status).toBe(429);
    expect(refused.text).toMatch(/Try again in \d+ minutes?/);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
  });
});

describe('choosing a new password with the link', () => {
  it('sets the new password: the old one then fails and the new one signs in', async () => {
    const user = await newUser();
    await askForReset(user.email);
    const path = await resetPathFor(user.email);

    const page = await supertest(app).get(path);
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('Choose a new password');

    const done = await setPassword(path, NEW_PASSWORD);
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/login');
    expect(done.headers['cache-control']).toBe('no-store');

    expect((await signIn(user.email, TEST_PASSWORD)).status).toBe(422);
    const ok = await signIn(user.email, NEW_PASSWORD);
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/');
  });

  it('shows "Your password has been changed" on the sign-in page it lands on', async () => {
    const user = await newUser();
    await askForReset(user.email);
    const path = await resetPathFor(user.email);
    const agent = supertest.agent(app);
    const page = await agent.get(path);
    await agent
      .post(path)
      .type('form')
      .send({ password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD, _csrf: csrfFrom(page.text) });
    const login = await agent.get('/login');
    expect(login.text).toContain('Your password has been changed. Sign in with it.');
  });

  it('works only once', async () => {
    const user = await newUser();
    await askForReset(user.email);
    const path = await resetPathFor(user.email);
    expect((await setPassword(path, NEW_PASSWORD)).status).toBe(303);
    const again = await setPassword(path, 'yet another long passphrase');
    expect(again.status).toBe(410);
    expect(again.text).toContain('This link is no longer valid');
    expect(again.text).toContain('href="/password/forgot"');
    expect((await signIn(user.email, NEW_PASSWORD)).status).toBe(303);
  });

  it('stops working an hour after it was sent, and offers to ask for a new one', async () => {
    const user = await newUser();
    await askForReset(user.email);
    const path = await resetPathFor(user.email);
    clock.advance(60 * 60_000 + 1000);
    const page = await supertest(app).get(path);
    expect(page.status).toBe(410);
    expect(page.text).toContain('This link is no longer valid');
    expect(page.text).toContain('one hour');
    expect(page.text).toContain('Ask for a new link');
    expect((await setPassword(path, NEW_PASSWORD)).status).toBe(410);
    expect((await signIn(user.email, TEST_PASSWORD)).status).toBe(303);
  });

  it('lets only the newest link work when the user asked twice', async () => {
    const user = await newUser();
    await askForReset(user.email);
    const first = await resetPathFor(user.email);
    await askForReset(user.email);
    const second = await resetPathFor(user.email);
    expect(second).not.toBe(first);
    expect((await supertest(app).get(first)).status).toBe(404);
    expect((await setPassword(second, NEW_PASSWORD)).status).toBe(303);
  });

  it(
    'refuses a short, a common or an unconfirmed password with the message next to the field, ' + 'and changes nothing',
    async () => {
      const user = await newUser();
      await askForReset(user.email);
      const path = await resetPathFor(user.email);

      const short = await setPassword(path, 'short');
      expect(short.status).toBe(422);
      expect(short.text).toMatch(/id="f-password-error">Use at least 12 characters/);
      const common = await setPassword(path, 'password1234');
      expect(common.status).toBe(422);
      expect(common.text).toMatch(/id="f-password-error">This password is too common/);
      const mismatch = await setPassword(path, NEW_PASSWORD, `${NEW_PASSWORD}!`);
      expect(mismatch.status).toBe(422);
      expect(mismatch.text).toMatch(/id="f-passwordConfirm-error">The two passwords do not match/);
      expect(mismatch.text).toMatch(/id="f-passwordConfirm"[^>]*aria-invalid="true"/);

      expect((await signIn(user.email, TEST_PASSWORD)).status).toBe(303);
      expect((await setPassword(path, NEW_PASSWORD)).status).toBe(303);
    },
  );

  it('signs the user out of every session they had', async () => {
    const user = await newUser();
    const laptop = await signedInAgent(app, user.email, TEST_PASSWORD);
    const phone = await signedInAgent(app, user.email, TEST_PASSWORD);
    await askForReset(user.email);
    expect((await setPassword(await resetPathFor(user.email), NEW_PASSWORD)).status).toBe(303);
    for (const { agent } of [laptop, phone]) {
      const res = await agent.get('/settings');
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/^\/login/);
    }
  });

  it('lifts a sign-in lock on the account', async () => {
    const user = await newUser();
    for (let i = 0; i < 5; i++) await signIn(user.email, 'not the password at all');
    expect((await signIn(user.email, TEST_PASSWORD)).status).toBe(429);
    await askForReset(user.email);
    expect((await setPassword(await resetPathFor(user.email), NEW_PASSWORD)).status).toBe(303);
    expect((await signIn(user.email, NEW_PASSWORD)).status).toBe(303);
  });

  it('writes the reset to the audit log without the password or the token', async () => {
    const user = await newUser();
    await askForReset(user.email);
    const path = await resetPathFor(user.email);
    await setPassword(path, NEW_PASSWORD);
    const entries = await db('audit_log')
      .where({ entity_id: user.id, action: 'user.password_reset' })
      .select('tenant_id', 'actor_user_id', 'before', 'after');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ tenant_id: tenant.id, actor_user_id: user.id });
    const stored = JSON.stringify(entries);
    expect(stored).not.toContain(path.split('/').at(-1));
    expect(stored).not.toContain(NEW_PASSWORD);
    expect(stored).not.toContain('$argon2');
  });

  it('answers a made-up link with the same "no longer valid" page', async () => {
    const res = await supertest(app).get('/password/reset/not-a-real-token-at-all-but-long-enough');
    expect(res.status).toBe(404);
    expect(res.text).toContain('This link is no longer valid');
  });
});
