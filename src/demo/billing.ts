import type { Trx } from '../db/index.js';
import { demoId } from './data.js';
import { insertUsageRecords } from '../services/billing/index.js';

/** What the demo's private note says: tests look for it on every customer page, and must never find it. */
export const DEMO_PRIVATE_NOTE = 'Private: prefers calls before 9am, escalate disputes to Dana';
export const DEMO_PUBLIC_NOTE = 'Your account manager is Dana Admin; invoices go out on the 1st.';

/**
 * Northwind's telecom account: a ledger of payments and a credit note that sums to its balance, a
 * debit limit, contacts with public and private notes, the demo tenant's number range and one
 * block assigned from it; and two calls going on as the demo starts, so channels in use shows them.
 */
export async function seedDemoBilling(trx: Trx): Promise<void> {
  const t = demoId('tenant:demo');
  const northwind = demoId('customer:northwind');
  const admin = demoId('user:admin@demo.test');
  // usage charges go in as adjustments until the invoices of the billing pages post them; the end
  // balance is the one the partner view's demo shows (a little below zero, inside the debit limit)
  const movements: { kind: string; amount: number; reference: string | null; limit: number; daysAgo: number }[] = [
    { kind: 'debit_limit', amount: 0, reference: null, limit: 50_000, daysAgo: 80 },
    { kind: 'payment', amount: 120_000, reference: 'BACS NW-1001 SEP', limit: 50_000, daysAgo: 75 },
    { kind: 'adjustment', amount: -138_000, reference: 'Usage charges, September', limit: 50_000, daysAgo: 60 },
    { kind: 'credit_note', amount: 4_500, reference: 'CN-2026-014', limit: 50_000, daysAgo: 45 },
    { kind: 'payment', amount: 95_050, reference: 'BACS NW-1001 OCT', limit: 50_000, daysAgo: 30 },
    { kind: 'adjustment', amount: -93_895, reference: 'Usage charges, October', limit: 50_000, daysAgo: 15 },
  ];
  let balance = 0;
  const rows = movements.map((m) => {
    balance += m.amount;
    return {
      tenant_id: t,
      customer_id: northwind,
      kind: m.kind,
      amount_minor: m.amount,
      currency: 'GBP',
      balance_after_minor: balance,
      debit_limit_after_minor: m.limit,
      reference: m.reference,
      created_by: admin,
      created_at: trx.raw(`now() - interval '${m.daysAgo} days'`),
    };
  });
  await trx('billing_ledger').insert(rows);
  await trx('customers')
    .where({ tenant_id: t, id: northwind })
    .update({ balance_minor: balance, debit_limit_minor: 50_000 });

  // Northwind's users are its contacts: notes on two of them, the owner's email and mobile verified
  await trx('users')
    .where({ id: demoId('user:owner@northwind.test') })
    .update({ email_verified: true, mobile: '+44 7700 900123', mobile_verified: true });
  await trx('contact_notes').insert([
    {
      tenant_id: t,
      membership_id: demoId('membership:owner@northwind.test'),
      public_notes: DEMO_PUBLIC_NOTE,
      private_notes: DEMO_PRIVATE_NOTE,
    },
    {
      tenant_id: t,
      membership_id: demoId('membership:fleet@northwind.test'),
      public_notes: 'Fleet changes: write to fleet-desk@demo.test.',
      private_notes: 'Private: asked for quarterly statements',
    },
  ]);

  const started = (minutes: number) => new Date(Date.now() - minutes * 60_000);
  await insertUsageRecords(trx, t, [
    {
      customerId: northwind,
      product: 'voice',
      occurredAt: started(4),
      direction: 'outbound',
      status: 'in_progress',
      fromNumber: '+447700900101',
      toNumber: '+442079460123',
    },
    {
      customerId: northwind,
      product: 'voice',
      occurredAt: started(11),
      direction: 'inbound',
      status: 'in_progress',
      fromNumber: '+447700900555',
      toNumber: '+447700900102',
    },
  ]);

  await trx('number_ranges').insert({ tenant_id: t, first_number: 100000, last_number: 109999, block_size: 100 });
  await trx('number_blocks').insert({
    tenant_id: t,
    customer_id: northwind,
    first_number: 100000,
    last_number: 100099,
  });
}
