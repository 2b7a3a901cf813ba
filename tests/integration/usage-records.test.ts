import { describe, expect, it } from 'vitest';
import { inTenant } from '../../src/db/tenant.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { DEMO_CONTACT_NAMES } from '../../src/demo/usage.js';
import { insertUsageRecords } from '../../src/services/billing/usage-records.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUsageRecords } from '../support/factories.js';

const { db } = await testDatabase();

describe('usage records', () => {
  it("writes a batch in one statement, each record in its customer's currency", async () => {
    const tenant = await makeTenant(db);
    const customer = await makeCustomer(db, tenant.id);
    await db('customers').where({ id: customer.id }).update({ currency: 'USD' });
    expect(
      await makeUsageRecords(db, customer, 2500, { product: 'sms', status: 'delivered', durationSeconds: 0 }),
    ).toBe(2500);
    const rows = await db('usage_records')
      .where({ customer_id: customer.id })
      .select('currency')
      .count({ n: '*' })
      .groupBy('currency');
    expect(rows).toEqual([{ currency: 'USD', n: 2500 }]);
  });

  it('writes nothing for a customer of another tenant', async () => {
    const tenant = await makeTenant(db);
    const other = await makeCustomer(db, (await makeTenant(db)).id);
    const written = await inTenant(db, tenant.id, (trx) =>
      insertUsageRecords(trx, tenant.id, [
        {
          customerId: other.id,
          product: 'voice',
          occurredAt: new Date(),
          direction: 'outbound',
          status: 'answered',
          fromNumber: '1',
          toNumber: '2',
        },
      ]),
    );
    expect(written).toBe(0);
    expect(await db('usage_records').where({ customer_id: other.id }).count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it(
    'seeds three months of demo usage in every product for Northwind, ' + 'with call data records on its units',
    async () => {
      await seedDemo(db, { now: new Date('2026-11-24T09:00:00Z') });
      const products = await db('usage_records')
        .where({ customer_id: demoId('customer:northwind') })
        .distinct('product')
        .pluck('product');
      expect(products.sort()).toEqual(['messaging', 'sms', 'video', 'voice']);
      const span = await db('usage_records')
        .where({ customer_id: demoId('customer:northwind') })
        .min({ first: 'occurred_at' })
        .max({ last: 'occurred_at' })
        .first();
      expect((span!.last as Date).getTime() - (span!.first as Date).getTime()).toBeGreaterThan(80 * 86_400_000);
      expect(
        await db('usage_records')
          .where({ customer_id: demoId('customer:northwind') })
          .whereNotNull('asset_id')
          .count({ n: '*' })
          .first(),
      ).not.toEqual({ n: 0 });
      expect(
        await db('usage_records').whereIn('contact_name', DEMO_CONTACT_NAMES).count({ n: '*' }).first(),
      ).not.toEqual({ n: 0 });
    },
  );
});
