import supertest from 'supertest';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { MailTransport } from '../../src/services/mail/transport.js';
import { deliverDueMail, enqueueMail } from '../../src/services/mail/outbox.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
// no SMTP_URL: mail is kept in the outbox for the tenant admin to read
const { app, ctx } = testApp({ db });
const tenant = await makeTenant(db, { name: 'Acme Provider' });
const otherTenant = await makeTenant(db, { name: 'Other Provider' });
const customer = await makeCustomer(db, tenant.id);
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const otherAdmin = await makeUser(db, { tenantId: otherTenant.id, role: 'tenant_admin' });
const support = await makeUser(db, { tenantId: tenant.id, role: 'support_agent' });
const companyAdmin = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });

const asAdmin = (await signedInAgent(app, admin.email, TEST_PASSWORD)).agent;
const asOtherAdmin = (await signedInAgent(app, otherAdmin.email, TEST_PASSWORD)).agent;

async function queue(tenantId: string, fields: { subject: string; text?: string; to?: string; kind?: string }) {
  await enqueueMail(db, {
    tenantId,
    kind: fields.kind ?? 'activation',
    to: fields.to ?? 'someone@example.test',
    subject: fields.subject,
    text: fields.text ?? 'Hello.',
  });
  return (await db('outbox').where({ tenant_id: tenantId, subject: fields.subject }).first('id')).id as number;
}

const failingTransport: MailTransport = {
  deliver: async () => {
    throw new Error('421 mail.example.test is not accepting mail right now');
  },
  close: () => {},
};

describe('the Outgoing mail page', () => {
  it(
    'keeps queued mail when no SMTP server is configured, ' + "and shows it with its text to the tenant's admin",
    async () => {
      const id = await queue(tenant.id, {
        subject: 'Activate your Portico account',
        to: 'new.person@example.test',
        text: 'Open https://portal.example.test/activate/abc123 to choose your password.',
      });
      await deliverDueMail(db, null, new Date());
      expect((await db('outbox').where({ id }).first('status')).status).toBe('kept');

      const list = await asAdmin.get('/admin/mail');
      expect(list.status).toBe(200);
      expect(list.text).toContain('Activate your Portico account');
      expect(list.text).toContain('new.person@example.test');
      expect(list.text).toMatch(/<span class="badge[^"]*">Kept<\/span>/);
      expect(list.text).toContain('No SMTP server is configured');

      const message = await asAdmin.get(`/admin/mail/${id}`);
      expect(message.status).toBe(200);
      expect(message.headers['cache-control']).toBe('no-store');
      expect(message.text).toContain('https://portal.example.test/activate/abc123');
      expect(message.text).toContain('how mail reaches people while no SMTP server is configured');
    },
  );

  it("hides one tenant's mail from another tenant's admin", async () => {
    const id = await queue(tenant.id, { subject: 'Only for Acme' });
    const list = await asOtherAdmin.get('/admin/mail');
    expect(list.status).toBe(200);
    expect(list.text).not.toContain('Only for Acme');
    const message = await asOtherAdmin.get(`/admin/mail/${id}`);
    expect(message.status).toBe(404);
    expect(message.text).not.toContain('Only for Acme');
  });

  it('refuses support agents and customer users with 403', async () => {
    const id = await queue(tenant.id, { subject: 'Staff only' });
    for (const user of [support, companyAdmin]) {
      const { agent } = await signedInAgent(app, user.email, TEST_PASSWORD);
      expect((await agent.get('/admin/mail')).status).toBe(403);
      expect((await agent.get(`/admin/mail/${id}`)).status).toBe(403);
    }
  });

  it('shows a password reset link asked for without SMTP in the kept mail', async () => {
    const user = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
    const visitor = supertest.agent(app);
    const page = await visitor.get('/password/forgot');
    expect(
      (
        await visitor
          .post('/password/forgot')
          .type('form')
          .send({ email: user.email, _csrf: csrfFrom(page.text) })
      ).status,
    ).toBe(200);
    await ctx.mailPump.idle();
    const row = await db('outbox').where({ tenant_id: tenant.id, recipient: user.email }).first('id', 'status', 'kind');
    expect(row).toMatchObject({ status: 'kept', kind: 'password_reset' });
    const message = await asAdmin.get(`/admin/mail/${row.id}`);
    expect(message.text).toMatch(/\/password\/reset\/[A-Za-z0-9_-]{40,}/);
  });

  it('retries a failing delivery after 1, 2, 4 … 60 minutes, and shows it as dead after attempt eight', async () => {
    ctx.mailPump.stop(); // this test steps delivery by hand: the app's pump must not take the message first
    onTestFinished(() => ctx.mailPump.start());
    const id = await queue(tenant.id, { subject: 'Your renewal is due', to: 'unreachable@example.test' });
    const attempts = async () => (await db('outbox').where({ id }).first('attempts')).attempts as number;
    let now = new Date(Date.now() + 1000);
    await deliverDueMail(db, failingTransport, now);
    const first = await db('outbox').where({ id }).first('status', 'attempts', 'next_attempt_at');
    expect(first).toMatchObject({ status: 'queued', attempts: 1 });
    expect(first.next_attempt_at.getTime()).toBe(now.getTime() + 60_000);
    // not due yet: nothing is tried again until the pause is over
    await deliverDueMail(db, failingTransport, now);
    expect(await attempts()).toBe(1);

    const queued = await asAdmin.get('/admin/mail?status=queued');
    expect(queued.text).toContain('Your renewal is due');
    expect(queued.text).toContain('not accepting mail right now');

    // each pause twice the one before, at most an hour: a second short of it nothing is tried, at its end once more
    for (const [i, minutes] of [1, 2, 4, 8, 16, 32, 60].entries()) {
      await deliverDueMail(db, failingTransport, new Date(now.getTime() + minutes * 60_000 - 1000));
      expect(await attempts(), `before pause ${i + 1} is over`).toBe(i + 1);
      now = new Date(now.getTime() + minutes * 60_000);
      await deliverDueMail(db, failingTransport, now);
    }
    expect(await db('outbox').where({ id }).first('status', 'attempts')).toEqual({ status: 'dead', attempts: 8 });

    const dead = await asAdmin.get('/admin/mail?status=dead');
    expect(dead.text).toContain('Your renewal is due');
    expect(dead.text).toMatch(/<span class="badge[^"]*">Dead<\/span>/);
    expect(dead.text).toContain('<td>8</td>');
    expect(dead.text).toContain('aria-current="page">Dead</a>');
    const kept = await asAdmin.get('/admin/mail?status=kept');
    expect(kept.text).not.toContain('Your renewal is due');
    const message = await asAdmin.get(`/admin/mail/${id}`);
    expect(message.text).toContain('Dead');
    expect(message.text).toContain('421 mail.example.test is not accepting mail right now');
  });

  it('pages through the outbox newest first by keyset, as plain links and as htmx swaps', async () => {
    const pager = await makeTenant(db);
    const pagerAdmin = await makeUser(db, { tenantId: pager.id, role: 'tenant_admin' });
    const { agent } = await signedInAgent(app, pagerAdmin.email, TEST_PASSWORD);
    for (let i = 1; i <= 23; i++) await queue(pager.id, { subject: `Notice number ${String(i).padStart(2, '0')}` });
    const subjects = (html: string) => [...html.matchAll(/>(Notice number \d+)<\/a>/g)].map((m) => m[1]);

    const first = await agent.get('/admin/mail?size=10');
    expect(subjects(first.text)).toEqual(Array.from({ length: 10 }, (_, i) => `Notice number ${23 - i}`));
    const older = /<a rel="next" href="([^"]+)"/.exec(first.text)![1]!.replaceAll('&amp;', '&');
    expect(older).toMatch(/^\/admin\/mail\?before=\d+&size=10$/);

    const second = await agent.get(older).set('HX-Request', 'true');
    expect(second.text).not.toContain('<html');
    expect(second.text).toContain('id="mail-list"');
    expect(subjects(second.text)).toEqual(
      Array.from({ length: 10 }, (_, i) => `Notice number ${String(13 - i).padStart(2, '0')}`),
    );
    const last = /<a rel="next" href="([^"]+)"/.exec(second.text)![1]!.replaceAll('&amp;', '&');
    const third = await agent.get(last);
    expect(subjects(third.text)).toEqual(['Notice number 03', 'Notice number 02', 'Notice number 01']);
    expect(third.text).not.toContain('rel="next"');
    expect(third.text).toContain('>Newest</a>');
  });

  it('names the files a message carries, with their sizes', async () => {
    await enqueueMail(db, {
      tenantId: tenant.id,
      kind: 'weekly_digest',
      to: 'digest@example.test',
      subject: 'Weekly fleet digest with a file',
      text: 'Hello.',
      attachments: [{ filename: 'due.csv', contentType: 'text/csv; charset=utf-8', content: 'a,b\n1,2\n' }],
    });
    const id = (await db('outbox').where({ subject: 'Weekly fleet digest with a file' }).first('id')).id as number;
    const page = await asAdmin.get(`/admin/mail/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<li>due.csv (8 bytes)</li>');
  });

  it('shows a made-up message id as not found', async () => {
    expect((await asAdmin.get('/admin/mail/999999999')).status).toBe(404);
    expect((await asAdmin.get('/admin/mail/not-a-number')).status).toBe(404);
  });
});
