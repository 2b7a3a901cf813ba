import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { runJob } from '../../src/jobs/scheduler.js';
import { sendMail } from '../../src/jobs/send-mail.js';
import { enqueueMail } from '../../src/services/mail/outbox.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { startSmtpCatcher, type SmtpCatcher } from '../support/smtp.js';

const { db } = await testDatabase();
// the SMTP server is down before any mail is queued, and comes back on this port later: a port below
// the kernel's ephemeral range (32768 and up), so no connection of another test takes it meanwhile
const port = 20_000 + Math.floor(Math.random() * 12_000);
let smtp: SmtpCatcher;
let running = false;
afterAll(async () => {
  if (running) await smtp.close();
});
const startSmtp = async () => {
  smtp = await startSmtpCatcher({ port });
  running = true;
};
const stopSmtp = async () => {
  await smtp.close();
  running = false;
};

const clock = fixedClock('2026-11-24T09:00:00Z');
const { app, ctx } = testApp({ db, clock, smtpUrl: `smtp://127.0.0.1:${port}` });
ctx.mailPump.stop(); // the mail job delivers here, step by step; "Retry" below starts the pump again
afterAll(() => ctx.mail?.close());
const jobs = { db, clock, mail: ctx.mail };
const send = async () => (await runJob(sendMail, jobs)).count ?? 0;

const tenant = await makeTenant(db, { name: 'Outage Telematics' });
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }, { name: 'Ada Admin' });
const outbox = (subjects: string[]) =>
  db('outbox')
    .where({ tenant_id: tenant.id })
    .whereIn('subject', subjects)
    .orderBy('subject')
    .select<{ id: number; subject: string; status: string; attempts: number; last_error: string | null }[]>(
      'id',
      'subject',
      'status',
      'attempts',
      'last_error',
    );

describe('mail while the SMTP server is down', () => {
  it(
    'keeps every message, retries with growing pauses, ' + 'and delivers each exactly once when the server is back',
    async () => {
      const subjects = [1, 2, 3, 4, 5].map((i) => `Message ${i}`);
      for (const [i, subject] of subjects.entries()) {
        await enqueueMail(db, {
          tenantId: tenant.id,
          kind: 'test',
          to: `person${i + 1}@example.test`,
          subject,
          text: `Hello number ${i + 1}.`,
        });
      }
      expect(await send()).toBe(5); // tried, refused, kept for later
      expect((await outbox(subjects)).map((m) => [m.status, m.attempts, !!m.last_error])).toEqual(
        subjects.map(() => ['queued', 1, true]),
      );
      expect(await send()).toBe(0); // not due again yet: the first pause is a minute

      clock.advance(60_000);
      expect(await send()).toBe(5); // still down: second attempt, then a two-minute pause
      await startSmtp();
      expect(await send()).toBe(0);
      clock.advance(60_000);
      expect(await send()).toBe(0); // a minute is not enough now
      expect(smtp.messages).toEqual([]);

      clock.advance(60_000);
      expect(await send()).toBe(5);
      clock.advance(60 * 60_000);
      expect(await send()).toBe(0);
      expect(smtp.messages.map((m) => m.subject).sort()).toEqual(subjects);
      expect(smtp.messages.find((m) => m.subject === 'Message 3')!.text!.trim()).toBe('Hello number 3.');
      expect((await outbox(subjects)).map((m) => [m.status, m.attempts])).toEqual(subjects.map(() => ['sent', 3]));
    },
  );

  it('gives a message up after the last attempt, and "Retry" on Outgoing mail delivers it', async () => {
    await stopSmtp();
    await enqueueMail(db, {
      tenantId: tenant.id,
      kind: 'test',
      to: 'late@example.test',
      subject: 'Dead letter',
      text: 'Still here.',
    });
    // eight attempts, 1, 2, 4, 8, 16, 32 and 60 minutes apart, and then no more
    for (const minutes of [1, 2, 4, 8, 16, 32, 60]) {
      expect(await send()).toBe(1);
      clock.advance(minutes * 60_000);
    }
    expect(await send()).toBe(1);
    clock.advance(60 * 60_000);
    expect(await send()).toBe(0);
    const [dead] = await outbox(['Dead letter']);
    expect(dead).toMatchObject({ status: 'dead', attempts: 8 });

    await startSmtp();
    ctx.mailPump.start();
    const { agent, csrf } = await signedInAgent(app, admin.email, TEST_PASSWORD);
    const list = await agent.get('/admin/mail?status=dead');
    expect(list.text).toContain('Dead letter');
    expect(list.text).toContain(`action="/admin/mail/${dead!.id}/retry"`);

    const retried = await agent.post(`/admin/mail/${dead!.id}/retry`).type('form').send({ _csrf: csrf });
    expect(retried.status).toBe(303);
    expect(retried.headers.location).toBe(`/admin/mail/${dead!.id}`);
    await ctx.mailPump.idle();
    const delivered = await smtp.waitFor((m) => m.subject === 'Dead letter');
    expect(delivered.text!.trim()).toBe('Still here.');
    const page = await agent.get(`/admin/mail/${dead!.id}`);
    expect(page.text).toContain('is queued again');
    expect(page.text).toMatch(/<dt>Status<\/dt><dd>Sent/);
    expect(page.text).not.toContain('Retry delivery');

    const again = await agent.post(`/admin/mail/${dead!.id}/retry`).type('form').send({ _csrf: csrf });
    expect(again.status).toBe(409);
    expect(again.text).toContain('This message has been delivered already.');
    expect(smtp.messages.filter((m) => m.subject === 'Dead letter')).toHaveLength(1);
    const entry = await db('audit_log')
      .where({ tenant_id: tenant.id, action: 'mail.retried' })
      .first('actor_label', 'before');
    expect(entry).toMatchObject({
      actor_label: `Ada Admin <${admin.email}>`,
      before: { status: 'dead', attempts: 8 },
    });
  });
});
