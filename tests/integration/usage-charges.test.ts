import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { loadActor } from '../../src/services/people/sign-in.js';
import {
  recordMovement,
  repriceCustomerUsage,
  setBillingModel,
  setBlockOverLimit,
} from '../../src/services/billing/index.js';
import { generateInvoice, setInvoiceStatus } from '../../src/services/billing/index.js';
import { listPartnerCustomers } from '../../src/services/partners/index.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import {
  makeApiKey,
  makeCustomer,
  makePartner,
  makeTenant,
  makeUsageRecords,
  makeUser,
  TEST_PASSWORD,
} from '../support/factories.js';

const { db } = await testDatabase();
const { app } = testApp({ db });
const NOW = new Date('2026-12-06T12:00:00Z');

/** A tenant with a tenant admin, a partner and its viewer, an API key, and one customer of the partner. */
async function world(debitLimit = 0) {
  const tenant = await makeTenant(db);
  const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
  const partner = await makePartner(db, tenant.id);
  const viewer = await makeUser(db, { tenantId: tenant.id, role: 'partner_viewer', partnerId: partner.id });
  const customer = await makeCustomer(db, tenant.id);
  await db('customers')
    .where({ id: customer.id })
    .update({ partner_id: partner.id, currency: 'GBP', debit_limit_minor: debitLimit });
  return {
    tenant,
    customer,
    staff: (await loadActor(db, admin.id, admin.membershipId))!,
    partnerViewer: (await loadActor(db, viewer.id, viewer.membershipId))!,
    key: await makeApiKey(db, tenant.id),
  };
}

/** n voice records of one minute each on `day`, unpriced: the customer's price list prices them. */
const voiceBatch = (accountId: string, n: number, day: string, offset: number, priced: object = {}) => ({
  records: Array.from({ length: n }, (_, i) => ({
    account_id: accountId,
    product: 'voice',
    occurred_at: new Date(Date.parse(`${day}T00:00:00Z`) + (offset + i) * 1000).toISOString(),
    direction: 'outbound',
    status: 'answered',
    from_number: '+447700900001',
    to_number: '+442079460000',
    duration_seconds: 50 + (i % 70),
    ...priced,
  })),
});

const ingest = (key: string, idempotencyKey: string, body: object) =>
  request(app)
    .post('/api/v1/usage-records')
    .set('Authorization', `Bearer ${key}`)
    .set('Idempotency-Key', idempotencyKey)
    .send(body);

async function figures(tenantId: string, customerId: string) {
  const c = await db('customers').where({ tenant_id: tenantId, id: customerId }).first('balance_minor');
  const ledger: { kind: string; s: string; n: number }[] = await db('billing_ledger')
    .where({ tenant_id: tenantId, customer_id: customerId })
    .groupBy('kind')
    .select('kind', db.raw('sum(amount_minor)::text as s'), db.raw('count(*)::int as n'));
  const priced = await db('usage_records')
    .where({ tenant_id: tenantId, customer_id: customerId })
    .whereNot('status', 'in_progress')
    .sum<{ s: string }[]>({ s: 'price_minor' });
  const of = (kind: string) => ledger.find((l) => l.kind === kind);
  return {
    balance: BigInt(c!.balance_minor),
    ledgerSum: ledger.reduce((a, l) => a + BigInt(l.s), 0n),
    payments: BigInt(of('payment')?.s ?? 0),
    usageMovements: Number(of('usage')?.n ?? 0),
    usageSum: BigInt(of('usage')?.s ?? 0),
    priced: BigInt(priced[0]!.s ?? 0),
  };
}

/**
 * The balance is payments minus priced usage to the minor unit, the usage movements sum to the priced
 * usage, the summaries' rollups agree, and so does the partner's remaining credit (debit limit plus balance).
 */
async function expectExact(w: Awaited<ReturnType<typeof world>>, debitLimit: bigint) {
  const f = await figures(w.tenant.id, w.customer.id);
  expect(f.balance).toBe(f.payments - f.priced);
  expect(f.usageSum).toBe(-f.priced);
  expect(f.ledgerSum).toBe(f.balance);
  const rollups = await db('usage_daily')
    .where({ tenant_id: w.tenant.id, customer_id: w.customer.id })
    .sum<{ s: string }[]>({ s: 'charge_minor' });
  expect(BigInt(rollups[0]!.s)).toBe(f.priced);
  const seen = (await listPartnerCustomers(db, w.partnerViewer, {})).rows[0]!;
  expect(BigInt(seen.remainingCreditMinor)).toBe(debitLimit + f.balance);
  return f;
}

describe('usage charges on the ledger', () => {
  it(
    'charges a prepaid customer once per batch, exactly, for two concurrent batches and a re-priced day, ' +
      'and the partner sees the same remaining credit',
    async () => {
      const w = await world(50_000);
      await db('price_lists').insert({
        tenant_id: w.tenant.id,
        customer_id: w.customer.id,
        product: 'voice',
        unit_price_minor: 7,
        valid_from: new Date('2026-11-01T00:00:00Z'),
      });
      await recordMovement(db, w.staff, w.customer.id, { kind: 'payment', amount: '100.00', reference: 'P-1' });
      const [a, b] = await Promise.all([
        ingest(w.key, 'batch-a', voiceBatch(w.customer.account_id, 3000, '2026-12-01', 0)),
        ingest(w.key, 'batch-b', voiceBatch(w.customer.account_id, 3000, '2026-12-01', 5000)),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      let f = await figures(w.tenant.id, w.customer.id);
      // 6,000 calls of 50 to 119 seconds: one or two started minutes at 7p each
      expect(f.priced).toBeGreaterThan(6000n * 7n);
      expect(f.usageMovements).toBe(2);
      expect(f.usageSum).toBe(-f.priced);
      expect(f.balance).toBe(10_000n - f.priced);
      expect(f.ledgerSum).toBe(f.balance);

      // a corrected price from the 1st, and the day priced again: the difference is one more movement
      await db('price_lists').insert({
        tenant_id: w.tenant.id,
        customer_id: w.customer.id,
        product: 'voice',
        unit_price_minor: 9,
        valid_from: new Date('2026-12-01T00:00:00Z'),
      });
      const { changed } = await repriceCustomerUsage(db, w.staff, w.customer.id, {
        product: 'voice',
        from: '2026-12-01',
        to: '2026-12-01',
      });
      expect(changed).toBe(6000);
      f = await expectExact(w, 50_000n);
      expect(f.usageMovements).toBe(3);
    },
  );

  it('stays exact when a day is re-priced while two more batches of that day arrive', async () => {
    const w = await world(20_000);
    const voicePrice = (unit: number, from: string) =>
      db('price_lists').insert({
        tenant_id: w.tenant.id,
        customer_id: w.customer.id,
        product: 'voice',
        unit_price_minor: unit,
        valid_from: new Date(from),
      });
    await voicePrice(7, '2026-11-01T00:00:00Z');
    await recordMovement(db, w.staff, w.customer.id, { kind: 'payment', amount: '30.00', reference: 'P-2' });
    expect((await ingest(w.key, 'day-a', voiceBatch(w.customer.account_id, 1500, '2026-12-02', 0))).status).toBe(200);

    await voicePrice(9, '2026-12-01T00:00:00Z');
    const [repriced, b, c] = await Promise.all([
      repriceCustomerUsage(db, w.staff, w.customer.id, { product: 'voice', from: '2026-12-02', to: '2026-12-02' }),
      ingest(w.key, 'day-b', voiceBatch(w.customer.account_id, 1500, '2026-12-02', 2000)),
      ingest(w.key, 'day-c', voiceBatch(w.customer.account_id, 1500, '2026-12-02', 4000)),
    ]);
    expect([b.status, c.status]).toEqual([200, 200]);
    expect(repriced.changed).toBeGreaterThanOrEqual(1500);

    // every record carries the new price (nothing is left to re-price) and the ledger agrees to the penny
    const again = await repriceCustomerUsage(db, w.staff, w.customer.id, {
      product: 'voice',
      from: '2026-12-02',
      to: '2026-12-02',
    });
    expect(again.changed).toBe(0);
    expect((await expectExact(w, 20_000n)).payments).toBe(3_000n);
  });

  it('does not charge a call until it ends, then charges what it cost', async () => {
    const w = await world();
    await makeUsageRecords(db, w.customer, 1, { status: 'in_progress', priceMinor: 40 });
    expect((await figures(w.tenant.id, w.customer.id)).balance).toBe(0n);
    await db('usage_records').where({ customer_id: w.customer.id }).update({ status: 'answered' });
    const f = await figures(w.tenant.id, w.customer.id);
    expect([f.balance, f.usageSum, f.ledgerSum]).toEqual([-40n, -40n, -40n]);
  });

  it('charges a postpaid customer by the invoice it issues, once, and not by usage as it arrives', async () => {
    const w = await world();
    await setBillingModel(db, w.staff, w.customer.id, 'postpaid');
    await makeUsageRecords(db, w.customer, 10, { priceMinor: 25, from: new Date('2026-11-20T12:00:00Z') });
    expect((await figures(w.tenant.id, w.customer.id)).balance).toBe(0n);
    const invoice = await generateInvoice(
      db,
      w.staff,
      w.customer.id,
      { granularity: 'daily', periods: ['2026-11-20'] },
      NOW,
    );
    expect(invoice.total_minor).toBe(250);
    await setInvoiceStatus(db, w.staff, w.customer.id, invoice.id, 'issued', NOW);
    await expect(setInvoiceStatus(db, w.staff, w.customer.id, invoice.id, 'issued', NOW)).rejects.toThrow();
    let f = await figures(w.tenant.id, w.customer.id);
    expect([f.balance, f.ledgerSum, f.usageMovements]).toEqual([-250n, -250n, 0]);
    await setInvoiceStatus(db, w.staff, w.customer.id, invoice.id, 'void', NOW, { confirmed: true });
    f = await figures(w.tenant.id, w.customer.id);
    expect([f.balance, f.ledgerSum]).toEqual([0n, 0n]);
  });

  it("issues a prepaid customer's invoice as a statement: usage was charged once, as it arrived", async () => {
    const w = await world();
    await makeUsageRecords(db, w.customer, 10, { priceMinor: 25, from: new Date('2026-11-20T12:00:00Z') });
    const invoice = await generateInvoice(
      db,
      w.staff,
      w.customer.id,
      { granularity: 'daily', periods: ['2026-11-20'] },
      NOW,
    );
    await setInvoiceStatus(db, w.staff, w.customer.id, invoice.id, 'issued', NOW);
    await setInvoiceStatus(db, w.staff, w.customer.id, invoice.id, 'paid', NOW);
    const f = await figures(w.tenant.id, w.customer.id);
    expect([f.balance, f.ledgerSum, f.usageSum]).toEqual([-250n, -250n, -250n]);
  });

  it(
    'marks an account that used up its debit limit "over limit" for the customer and the partner, ' +
      'and mails its billing contacts once',
    async () => {
      const w = await world(1_000);
      const owner = await makeUser(db, { tenantId: w.tenant.id, role: 'company_admin', customerId: w.customer.id });
      await makeUser(db, { tenantId: w.tenant.id, role: 'group_admin', customerId: w.customer.id });
      const mails = () => db('outbox').where({ tenant_id: w.tenant.id, kind: 'over_limit' }).select('recipient');
      await makeUsageRecords(db, w.customer, 9, { priceMinor: 100 });
      expect(await mails()).toEqual([]);
      // -1,100 + 1,000 < 0: the limit is used up, by two batches at once
      const [x, y] = await Promise.all([
        ingest(w.key, 'over-1', voiceBatch(w.customer.account_id, 1, '2026-12-02', 0, { price_minor: 100 })),
        makeUsageRecords(db, w.customer, 1, { priceMinor: 100 }),
      ]);
      expect(x.status).toBe(200);
      expect(y).toBe(1);
      await makeUsageRecords(db, w.customer, 3, { priceMinor: 100 });
      expect(await mails()).toEqual([{ recipient: owner.email }]);

      const { agent } = await signedInAgent(app, owner.email, TEST_PASSWORD);
      const page = await agent.get('/billing');
      expect(page.text).toContain('Over limit');
      const partner = (await listPartnerCustomers(db, w.partnerViewer, {})).rows[0]!;
      expect(partner.overLimit).toBe(true);

      // a payment brings it back inside the limit; going over again is told again
      await recordMovement(db, w.staff, w.customer.id, { kind: 'payment', amount: '50.00', reference: '' });
      expect((await listPartnerCustomers(db, w.partnerViewer, {})).rows[0]!.overLimit).toBe(false);
      await makeUsageRecords(db, w.customer, 1, { priceMinor: 10_000 });
      expect(await mails()).toHaveLength(2);
    },
  );

  it('refuses the records of an account over its limit, each with an error, when the tenant blocks it', async () => {
    const w = await world(500);
    const other = await makeCustomer(db, w.tenant.id);
    await makeUsageRecords(db, w.customer, 1, { priceMinor: 600 });
    const batch = (key: string) => {
      const records = [
        ...voiceBatch(other.account_id, 1, '2026-12-03', 0).records,
        ...voiceBatch(w.customer.account_id, 2, '2026-12-03', 10).records,
      ];
      return ingest(w.key, key, { records });
    };
    // off by default: devices' usage is accepted (and charged) even over the limit
    expect((await batch('while-off')).body).toEqual({ accepted: 3 });

    await setBlockOverLimit(db, w.staff, true);
    const refused = await batch('while-on');
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      { index: 1, field: 'account_id', message: expect.stringContaining('over its debit limit') },
      { index: 2, field: 'account_id', message: expect.stringContaining('over its debit limit') },
    ]);
    const good = await ingest(w.key, 'other-only', voiceBatch(other.account_id, 2, '2026-12-03', 20));
    expect(good.body).toEqual({ accepted: 2 });

    // paid back inside the limit: accepted again
    await recordMovement(db, w.staff, w.customer.id, { kind: 'payment', amount: '20.00', reference: '' });
    expect((await batch('after-payment')).body).toEqual({ accepted: 3 });
  });
});
