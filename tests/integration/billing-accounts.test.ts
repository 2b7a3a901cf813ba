import { describe, expect, it } from 'vitest';
import { loadActor } from '../../src/services/people/sign-in.js';
import { recordMovement } from '../../src/services/billing/accounts.js';
import { assignNumberBlock, releaseNumberBlock, setNumberRange } from '../../src/services/billing/number-blocks.js';
import { DEMO_PUBLIC_NOTE } from '../../src/demo/billing.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import type { Actor } from '../../src/services/access/index.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser } from '../support/factories.js';

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db });
const demo = demoId('tenant:demo');
const northwind = demoId('customer:northwind');
const staff = (await loadActor(db, demoId('user:admin@demo.test'), demoId('membership:admin@demo.test')))!;

/** A tenant of its own with a tenant admin and one customer, so a test's range and blocks are its alone. */
async function freshTenant(): Promise<{ actor: Actor; customerId: string; otherCustomerId: string }> {
  const tenant = await makeTenant(db);
  const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
  const customer = await makeCustomer(db, tenant.id);
  const other = await makeCustomer(db, tenant.id);
  return {
    actor: (await loadActor(db, admin.id, admin.membershipId))!,
    customerId: customer.id,
    otherCustomerId: other.id,
  };
}

const balanceOf = async (tenantId: string, customerId: string) => {
  const c = await db('customers').where({ tenant_id: tenantId, id: customerId }).first('balance_minor');
  const sum = await db('billing_ledger')
    .where({ tenant_id: tenantId, customer_id: customerId })
    .sum<{ s: string }[]>({ s: 'amount_minor' });
  return { balance: BigInt(c!.balance_minor), sum: BigInt(sum[0]!.s ?? 0) };
};

describe('the ledger of a telecom account', () => {
  it('keeps the balance equal to the sum of its movements when twenty payments arrive at once', async () => {
    const { actor, customerId } = await freshTenant();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        recordMovement(db, actor, customerId, {
          kind: i % 4 ? 'payment' : 'credit_note',
          amount: '12.34',
          reference: `P-${i}`,
        }),
      ),
    );
    const { balance, sum } = await balanceOf(actor.tenantId, customerId);
    expect(balance).toBe(20n * 1234n);
    expect(sum).toBe(balance);
    const rows = await db('billing_ledger')
      .where({ tenant_id: actor.tenantId, customer_id: customerId })
      .orderBy('id')
      .select('balance_after_minor');
    // each movement saw the one before it: the running balances are 1234, 2468, … with none lost
    expect(rows.map((r) => BigInt(r.balance_after_minor))).toEqual(
      Array.from({ length: 20 }, (_, i) => BigInt(i + 1) * 1234n),
    );
  });

  it('refuses an amount with more decimals than the currency has, and writes nothing', async () => {
    const { actor, customerId } = await freshTenant();
    await expect(
      recordMovement(db, actor, customerId, { kind: 'payment', amount: '1.234', reference: '' }),
    ).rejects.toMatchObject({ fields: { amount: { values: expect.objectContaining({ currency: 'EUR' }) } } });
    expect((await balanceOf(actor.tenantId, customerId)).balance).toBe(0n);
  });

  it('shows staff the demo balance formatted for their locale, and the ledger that sums to it', async () => {
    const admin = await signedInAgent(app, 'admin@demo.test');
    const page = await admin.agent.get(`/admin/customers/${northwind}/billing`).set('Accept-Language', 'de-DE');
    expect(page.status).toBe(200);
    // -123.45 GBP in German
    expect(page.text).toMatch(/-123,45\s£/);
    const { balance, sum } = await balanceOf(demo, northwind);
    expect(balance).toBe(sum);
    const en = await admin.agent.get(`/admin/customers/${northwind}/billing`).set('Accept-Language', 'en-GB');
    expect(en.text).toContain('-£123.45');
    expect(en.text).toContain('CN-2026-014');
  });

  it('records a payment through the tab and audits it with its difference', async () => {
    const admin = await signedInAgent(app, 'admin@demo.test');
    const before = (await balanceOf(demo, northwind)).balance;
    const res = await admin.agent
      .post(`/admin/customers/${northwind}/billing/ledger`)
      .type('form')
      .send({ _csrf: admin.csrf, kind: 'payment', amount: '10.00', reference: 'TEST-1' });
    expect(res.status).toBe(303);
    expect((await balanceOf(demo, northwind)).balance).toBe(before + 1000n);
    const entry = await db('audit_log')
      .where({ tenant_id: demo, customer_id: northwind, action: 'billing.payment_recorded' })
      .orderBy('id', 'desc')
      .first('before', 'after');
    expect(BigInt(entry.before.balance_minor)).toBe(before);
    expect(BigInt(entry.after.balance_minor)).toBe(before + 1000n);
    const bad = await admin.agent
      .post(`/admin/customers/${northwind}/billing/ledger`)
      .type('form')
      .send({ _csrf: admin.csrf, kind: 'payment', amount: 'ten', reference: '' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('id="f-amount-error"');
  });

  it('changes the debit limit through a ledger row of amount zero', async () => {
    const admin = await signedInAgent(app, 'admin@demo.test');
    const res = await admin.agent
      .post(`/admin/customers/${northwind}/billing/debit-limit`)
      .type('form')
      .send({ _csrf: admin.csrf, debitLimit: '750' });
    expect(res.status).toBe(303);
    const c = await db('customers').where({ tenant_id: demo, id: northwind }).first('debit_limit_minor');
    expect(c.debit_limit_minor).toBe(75000);
    const row = await db('billing_ledger')
      .where({ tenant_id: demo, customer_id: northwind })
      .orderBy('id', 'desc')
      .first('kind', 'amount_minor', 'debit_limit_after_minor');
    expect(row).toMatchObject({ kind: 'debit_limit', amount_minor: 0, debit_limit_after_minor: 75000 });
  });
});

describe('internal number blocks', () => {
  it('refuses "+" with what to set up while the tenant has no number range', async () => {
    const { actor, customerId } = await freshTenant();
    await expect(assignNumberBlock(db, actor, customerId)).rejects.toThrow(
      /number range.*first number, the last number and the block size/i,
    );
  });

  it('gives two staff pressing "+" at once two different blocks', async () => {
    const { actor, customerId, otherCustomerId } = await freshTenant();
    await setNumberRange(db, actor, { firstNumber: '5000', lastNumber: '5999', blockSize: '100' });
    const [a, b] = await Promise.all([
      assignNumberBlock(db, actor, customerId),
      assignNumberBlock(db, actor, otherCustomerId),
    ]);
    expect(new Set([a.block.first_number, b.block.first_number])).toEqual(new Set([5000, 5100]));
    const many = await Promise.all(Array.from({ length: 6 }, () => assignNumberBlock(db, actor, customerId)));
    const starts = [a, b, ...many].map((r) => r.block.first_number);
    expect(new Set(starts).size).toBe(8);
  });

  it('says the range is exhausted when every block is taken, and hands a released block out again', async () => {
    const { actor, customerId } = await freshTenant();
    await setNumberRange(db, actor, { firstNumber: '100', lastNumber: '129', blockSize: '10' });
    const blocks = [];
    for (let i = 0; i < 3; i++) blocks.push((await assignNumberBlock(db, actor, customerId)).block);
    expect(blocks.map((b) => `${b.first_number}-${b.last_number}`)).toEqual(['100-109', '110-119', '120-129']);
    await expect(assignNumberBlock(db, actor, customerId)).rejects.toThrow('The number range 100–129 is exhausted');
    await releaseNumberBlock(db, actor, customerId, String(blocks[1]!.id), new Date());
    expect((await assignNumberBlock(db, actor, customerId)).block.first_number).toBe(110);
  });

  it('refuses a range that would leave an assigned block outside it', async () => {
    const { actor, customerId } = await freshTenant();
    await setNumberRange(db, actor, { firstNumber: '1000', lastNumber: '1999', blockSize: '100' });
    await assignNumberBlock(db, actor, customerId);
    await expect(
      setNumberRange(db, actor, { firstNumber: '1100', lastNumber: '1999', blockSize: '100' }),
    ).rejects.toMatchObject({ fields: { firstNumber: { values: { first: '1000', last: '1099' } } } });
  });

  it('answers "+" on the tab with the message next to the blocks when the range is exhausted', async () => {
    const admin = await signedInAgent(app, 'admin@demo.test');
    await setNumberRange(db, staff, { firstNumber: '100000', lastNumber: '100199', blockSize: '100' });
    const first = await admin.agent
      .post(`/admin/customers/${northwind}/billing/number-blocks`)
      .type('form')
      .send({ _csrf: admin.csrf });
    expect(first.status).toBe(303);
    const full = await admin.agent
      .post(`/admin/customers/${northwind}/billing/number-blocks`)
      .type('form')
      .send({ _csrf: admin.csrf });
    expect(full.status).toBe(409);
    expect(full.text).toContain('is exhausted');
  });
});

describe('the customer portal /billing', () => {
  it('shows a company admin the balance, the debit limit, channels in use and the public notes', async () => {
    const owner = await signedInAgent(app, 'owner@northwind.test');
    const page = await owner.agent.get('/billing').set('Accept-Language', 'en-GB');
    expect(page.status).toBe(200);
    // the account's own figures (the tests above move them), in pounds and pence
    const account = await db('customers').where({ id: northwind }).first('balance_minor', 'debit_limit_minor');
    const pounds = (minor: number | string) =>
      `${Number(minor) < 0 ? '-' : ''}£${(Math.abs(Number(minor)) / 100).toFixed(2)}`;
    expect(page.text).toContain(
      `<dt>Balance</dt><dd class="num"><strong>${pounds(account.balance_minor)}</strong></dd>`,
    );
    expect(page.text).toContain(`<dt>Debit limit</dt><dd class="num">${pounds(account.debit_limit_minor)}</dd>`);
    expect(page.text).toMatch(/Channels in use<\/dt><dd class="num">2 <span class="muted">calls in progress now/);
    expect(page.text).toContain(DEMO_PUBLIC_NOTE.replace("'", '&#39;'));
    // the demo's issued invoice of last month, among the latest
    expect(page.text).toMatch(/Latest invoices[\s\S]*INV-000001/);
  });
});
