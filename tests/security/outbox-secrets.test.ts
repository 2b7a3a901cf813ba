import type { ParsedMail } from 'mailparser';
import supertest from 'supertest';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { JOBS, runJob } from '../../src/jobs/scheduler.js';
import { csrfFrom, signedInAgent, testApp, testConfig } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { startSmtpCatcher } from '../support/smtp.js';

/**
 * One-time secrets (reset, activation and confirmation links, generated passwords, mobile codes) reach
 * their recipient and nobody else: once delivered, neither the outgoing mail page nor the outbox row holds
 * them; kept mail shows them in full only outside production, where that is how the demo delivers.
 */

const { db } = await testDatabase();
const smtp = await startSmtpCatcher();
afterAll(() => smtp.close());
const { app, ctx } = testApp({ db, smtpUrl: smtp.url });
const tenant = await makeTenant(db, { name: 'Acme Provider' });
const customer = await makeCustomer(db, tenant.id, { title: 'Northwind' });
const adminA = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }, { name: 'Ann Admin' });
const adminB = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }, { name: 'Bob Admin' });
const asA = await signedInAgent(app, adminA.email, TEST_PASSWORD);

const recipient = (m: ParsedMail) => (Array.isArray(m.to) ? m.to[0]?.text : m.to?.text) ?? '';

/** The text of the newest message to `email` as the SMTP server received it. */
async function delivered(email: string, subject: string): Promise<string> {
  await ctx.mailPump.idle();
  const mail = await smtp.waitFor((m) => recipient(m) === email && m.subject === subject);
  return mail.text ?? '';
}

/** What tenant admin A can read of the newest message to `email`: its list row, its page, and the database row. */
async function whatAdminSees(email: string, kind: string) {
  const row = await db('outbox').where({ tenant_id: tenant.id, recipient: email, kind }).orderBy('id', 'desc').first();
  expect(row.status).toBe('sent');
  const list = await asA.agent.get('/admin/mail');
  expect(list.text).toContain(email);
  const page = await asA.agent.get(`/admin/mail/${row.id}`);
  expect(page.status).toBe(200);
  return { page: page.text, stored: JSON.stringify(row) };
}

describe('a delivered message that carried a secret', () => {
  it('keeps a reset link that tenant admin A asked for peer admin B out of A’s reach', async () => {
    const visitor = supertest.agent(app);
    const form = await visitor.get('/password/forgot');
    const asked = await visitor
      .post('/password/forgot')
      .type('form')
      .send({ email: adminB.email, _csrf: csrfFrom(form.text) });
    expect(asked.status).toBe(200);

    const text = await delivered(adminB.email, 'Reset your Portico password');
    const token = /\/password\/reset\/([A-Za-z0-9_-]{43})/.exec(text)![1]!;
    const { page, stored } = await whatAdminSees(adminB.email, 'password_reset');
    expect(page).not.toContain(token);
    expect(page).toContain('/password/reset/[redacted]');
    expect(page).toContain('this message carried were removed once it was delivered');
    expect(stored).not.toContain(token);
    // the link itself still works for B, who received it
    expect((await supertest(app).get(`/password/reset/${token}`)).status).toBe(200);
  });

  it('keeps an activation link out of the outbox once delivered', async () => {
    const email = 'new.person@northwind.test';
    const res = await asA.agent
      .post(`/admin/customers/${customer.id}/users`)
      .type('form')
      .send({ name: 'New Person', email, role: 'company_admin', activation: 'email', _csrf: asA.csrf });
    expect(res.status).toBe(303);
    const token = /\/activate\/([A-Za-z0-9_-]{43})/.exec(await delivered(email, 'Activate your Portico account'))![1]!;
    const { page, stored } = await whatAdminSees(email, 'activation');
    expect(page).not.toContain(token);
    expect(page).toContain('/activate/[redacted]');
    expect(stored).not.toContain(token);
  });

  it('keeps a generated contact password out of the outbox once delivered', async () => {
    const email = 'carla.contact@northwind.test';
    const res = await asA.agent.post(`/admin/customers/${customer.id}/billing/contacts`).type('form').send({
      name: 'Carla Contact',
      email,
      role: 'company_admin',
      passwordMode: 'generate',
      password: '',
      mobile: '',
      publicNotes: '',
      privateNotes: '',
      _csrf: asA.csrf,
    });
    expect(res.status).toBe(303);
    const password = /password:\s+(\S+)/.exec(await delivered(email, 'Your Portico account'))![1]!;
    const { page, stored } = await whatAdminSees(email, 'contact_password');
    expect(page).not.toContain(password);
    expect(page).toContain('password: [redacted]');
    expect(stored).not.toContain(password);
  });

  it('keeps an email confirmation link out of the outbox once delivered', async () => {
    const person = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
    const them = await signedInAgent(app, person.email, TEST_PASSWORD);
    expect((await them.agent.post('/settings/email-verification').type('form').send({ _csrf: them.csrf })).status).toBe(
      303,
    );
    const text = await delivered(person.email, 'Confirm your email address');
    const token = /\/settings\/email-verification\/([A-Za-z0-9_-]{43})/.exec(text)![1]!;
    const { page, stored } = await whatAdminSees(person.email, 'email_verification');
    expect(page).not.toContain(token);
    expect(stored).not.toContain(token);
  });

  it('shows messages without secrets in full after delivery', async () => {
    const person = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
    const { enqueueMail } = await import('../../src/services/mail/outbox.js');
    await enqueueMail(db, {
      tenantId: tenant.id,
      kind: 'ticket_update',
      to: person.email,
      subject: 'Your ticket was answered',
      text: 'Hello, we restarted the tracker.',
    });
    await delivered(person.email, 'Your ticket was answered');
    const { page } = await whatAdminSees(person.email, 'ticket_update');
    expect(page).toContain('Hello, we restarted the tracker.');
    expect(page).not.toContain('[redacted]');
  });
});

describe('kept mail (no SMTP server)', () => {
  async function keptReset(application: typeof app, email: string) {
    const visitor = supertest.agent(application);
    const form = await visitor.get('/password/forgot');
    await visitor
      .post('/password/forgot')
      .type('form')
      .send({ email, _csrf: csrfFrom(form.text) });
    const row = await db('outbox')
      .where({ tenant_id: tenant.id, recipient: email, kind: 'password_reset' })
      .orderBy('id', 'desc')
      .first('id', 'status', 'body_text');
    return { id: row.id as number, token: /\/password\/reset\/([A-Za-z0-9_-]{43})/.exec(row.body_text as string)?.[1] };
  }

  it('shows a kept reset link in full outside production, and redacted in production', async () => {
    // this app delivers over SMTP: its pump must not take the kept apps' mail
    ctx.mailPump.stop();
    onTestFinished(() => ctx.mailPump.start());
    for (const env of ['development', 'production'] as const) {
      const kept = testApp({ db, env: { NODE_ENV: env } });
      onTestFinished(() => kept.ctx.mailPump.stop());
      const person = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
      const asAdmin = await signedInAgent(kept.app, adminA.email, TEST_PASSWORD);
      const { id, token } = await keptReset(kept.app, person.email);
      await kept.ctx.mailPump.idle();
      expect((await db('outbox').where({ id }).first('status')).status).toBe('kept');
      const page = (await asAdmin.agent.get(`/admin/mail/${id}`)).text;
      expect(token).toBeDefined();
      if (env === 'production') {
        expect(page).not.toContain(token);
        expect(page).toContain('/password/reset/[redacted]');
      } else {
        expect(page).toContain(`/password/reset/${token}`);
      }
    }
  });

  it('shows a texted mobile code redacted in production', async () => {
    ctx.mailPump.stop();
    onTestFinished(() => ctx.mailPump.start());
    const kept = testApp({ db, env: { NODE_ENV: 'production' } });
    onTestFinished(() => kept.ctx.mailPump.stop());
    const person = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
    const them = await signedInAgent(kept.app, person.email, TEST_PASSWORD);
    const mobile = '+44 7700 900321';
    const sent = await them.agent.post('/settings/mobile').type('form').send({ mobile, _csrf: them.csrf });
    expect(sent.status).toBe(303);
    const row = await db('outbox').where({ tenant_id: tenant.id, recipient: mobile }).first('id', 'body_text');
    const code = /\b(\d{6})\b/.exec(row.body_text as string)![1]!;
    const asAdmin = await signedInAgent(kept.app, adminA.email, TEST_PASSWORD);
    const page = (await asAdmin.agent.get(`/admin/mail/${row.id}`)).text;
    expect(page).not.toContain(code);
    expect(page).toContain('[redacted]');
  });
});

describe('the outbox retention', () => {
  it('forgets mail older than the retention period, and keeps what is still queued', async () => {
    const clock = fixedClock('2026-12-06T03:00:00Z');
    const day = 24 * 60 * 60_000;
    const ids: Record<string, number> = {};
    for (const [name, ageDays, status] of [
      ['old sent', 31, 'sent'],
      ['old kept', 40, 'kept'],
      ['old dead', 31, 'dead'],
      ['old queued', 31, 'queued'],
      ['recent sent', 29, 'sent'],
    ] as const) {
      const [row] = (await db('outbox')
        .insert({
          tenant_id: tenant.id,
          kind: 'test',
          recipient: 'retention@example.test',
          subject: name,
          body_text: 'Hello',
          status,
          // not due: no pump takes the queued one while the test runs
          next_attempt_at: new Date(clock.now().getTime() + day),
          attempts: status === 'queued' ? 1 : 0,
          created_at: new Date(clock.now().getTime() - ageDays * day),
        })
        .returning('id')) as { id: number }[];
      ids[name] = row!.id;
    }
    const job = JOBS.find((j) => j.name === 'prune-outbox')!;
    const result = await runJob(job, { db, clock, mail: null, mailRetentionDays: 30 });
    expect(result).toMatchObject({ ran: true, count: 3 });
    const left = (await db('outbox').whereIn('id', Object.values(ids)).pluck('subject')) as string[];
    expect(left.sort()).toEqual(['old queued', 'recent sent']);

    // a shorter period, as MAIL_RETENTION_DAYS sets it
    const { mailRetentionDays } = testConfig({ MAIL_RETENTION_DAYS: '7' });
    expect(mailRetentionDays).toBe(7);
    await runJob(job, { db, clock, mail: null, mailRetentionDays });
    expect(await db('outbox').where({ id: ids['recent sent'] }).first()).toBeUndefined();
  });

  it('keeps mail 30 days unless told otherwise, and refuses a retention that is not a number of days', () => {
    expect(testConfig().mailRetentionDays).toBe(30);
    expect(() => testConfig({ MAIL_RETENTION_DAYS: '0' })).toThrow(/^Invalid MAIL_RETENTION_DAYS="0"/);
    expect(() => testConfig({ MAIL_RETENTION_DAYS: 'a month' })).toThrow(/MAIL_RETENTION_DAYS/);
  });
});
