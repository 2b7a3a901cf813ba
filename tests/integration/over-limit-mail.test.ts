import { afterAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { ParsedMail } from 'mailparser';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeApiKey, makeCustomer, makePartner, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { startSmtpCatcher } from '../support/smtp.js';

// Issue 23's "done when": a customer going over its limit shows "Over limit" on /billing and on the
// partner view, and one mail reaches each of its billing contacts, caught by a real SMTP server.
const { db } = await testDatabase();
const smtp = await startSmtpCatcher();
afterAll(() => smtp.close());
const { app, ctx } = testApp({ db, smtpUrl: smtp.url });

const recipient = (m: ParsedMail) => (Array.isArray(m.to) ? m.to[0]?.text : m.to?.text);

/** n voice records priced 1.00 each, for the account, in one API batch. */
function batch(key: string, idempotencyKey: string, accountId: string, n: number, offset: number) {
  const records = Array.from({ length: n }, (_, i) => ({
    account_id: accountId,
    product: 'voice',
    occurred_at: new Date(Date.parse('2026-12-01T08:00:00Z') + (offset + i) * 1000).toISOString(),
    direction: 'outbound',
    status: 'answered',
    from_number: '+447700900001',
    to_number: '+442079460000',
    duration_seconds: 60,
    price_minor: 100,
  }));
  return request(app)
    .post('/api/v1/usage-records')
    .set('Authorization', `Bearer ${key}`)
    .set('Idempotency-Key', idempotencyKey)
    .send({ records });
}

describe('a customer going over its debit limit', () => {
  it('is "Over limit" on /billing, staff and partner pages; each billing contact gets one mail', async () => {
    const tenant = await makeTenant(db);
    const partner = await makePartner(db, tenant.id);
    const customer = await makeCustomer(db, tenant.id, { title: 'Limitless Ltd' });
    await db('customers')
      .where({ id: customer.id })
      .update({ partner_id: partner.id, currency: 'GBP', debit_limit_minor: 1_000 });
    const contacts = [
      await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id }),
      await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id }),
    ];
    // not billing contacts: a group admin of the customer, the partner's viewer, the provider's staff
    const others = [
      await makeUser(db, { tenantId: tenant.id, role: 'group_admin', customerId: customer.id }),
      await makeUser(db, { tenantId: tenant.id, role: 'partner_viewer', partnerId: partner.id }),
      await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }),
    ];
    const [, viewer, staff] = others;
    const key = await makeApiKey(db, tenant.id);

    const { agent: owner } = await signedInAgent(app, contacts[0]!.email, TEST_PASSWORD);
    const { agent: partnerAgent } = await signedInAgent(app, viewer!.email, TEST_PASSWORD);
    const { agent: staffAgent } = await signedInAgent(app, staff!.email, TEST_PASSWORD);
    const pages = async () => {
      const answers = [
        await owner.get('/billing'),
        await partnerAgent.get('/partner/customers'),
        await partnerAgent.get(`/partner/customers/${customer.id}`),
        await staffAgent.get(`/admin/customers/${customer.id}/billing`),
      ];
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      return answers.map((r) => r.text);
    };
    for (const page of await pages()) expect(page).not.toContain('Over limit');

    // 6.00 and 6.00 at once against a limit of 10.00: neither batch alone, both together go over
    const [a, b] = await Promise.all([
      batch(key, 'first', customer.account_id, 6, 0),
      batch(key, 'second', customer.account_id, 6, 100),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    for (const c of contacts) await smtp.waitFor((m) => recipient(m) === c.email);

    // more usage while over: charged, and no second mail
    expect((await batch(key, 'third', customer.account_id, 2, 200)).status).toBe(200);
    await ctx.mailPump.idle();
    const mails = smtp.messages.filter((m) => [...contacts, ...others].some((u) => u.email === recipient(m)));
    expect(mails.map(recipient).sort()).toEqual(contacts.map((c) => c.email).sort());
    for (const m of mails) {
      expect(m.subject).toBe(`Limitless Ltd (${customer.account_id}) is over its debit limit`);
      expect(m.text).toContain('limit of £10.00: the balance is -£12.00');
    }

    for (const page of await pages()) expect(page).toContain('Over limit');
    const { balance_minor } = await db('customers').where({ id: customer.id }).first('balance_minor');
    expect(BigInt(balance_minor)).toBe(-1_400n);
  });
});
