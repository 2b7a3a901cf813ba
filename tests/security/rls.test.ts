import { describe, expect, it } from 'vitest';
import { inTenant } from '../../src/db/tenant.js';
import { makeCustomer, makeTenant } from '../support/factories.js';
import { testDatabase } from '../support/db.js';

const { db } = await testDatabase();
const mine = await makeTenant(db);
const theirs = await makeTenant(db);
await makeCustomer(db, mine.id, { title: 'Mine' });
await makeCustomer(db, theirs.id, { title: 'Theirs' });

describe('tenant isolation in PostgreSQL', () => {
  it('shows a query that forgets its tenant filter only the rows of the tenant it runs for', async () => {
    const titles = await inTenant(db, mine.id, (trx) => trx('customers').pluck('title'));
    expect(titles).toEqual(['Mine']);
  });

  it('refuses to write a row into another tenant', async () => {
    await expect(
      inTenant(db, mine.id, (trx) =>
        trx('customers').insert({ tenant_id: theirs.id, title: 'Sneaky', account_id: 'X-1' }),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it("cannot update or delete another tenant's rows even by id", async () => {
    const updated = await inTenant(db, mine.id, (trx) =>
      trx('customers').where({ tenant_id: theirs.id }).update({ title: 'Owned' }),
    );
    const deleted = await inTenant(db, mine.id, (trx) => trx('customers').where({ tenant_id: theirs.id }).del());
    expect([updated, deleted]).toEqual([0, 0]);
    expect(await db('customers').where({ tenant_id: theirs.id }).pluck('title')).toEqual(['Theirs']);
  });

  it('sees nothing at all when no tenant is set for the transaction', async () => {
    const rows = await db.transaction(async (trx) => {
      await trx.raw("select set_config('role', 'portico_app', true)");
      return trx('customers').select('id');
    });
    expect(rows).toEqual([]);
  });
});
