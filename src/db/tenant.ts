import type { Knex } from 'knex';
import type { Db, Trx } from './index.js';

/**
 * Runs fn in a transaction bound to one tenant: row-level security admits only that tenant's rows,
 * so a query that forgets its tenant filter still cannot see another tenant. One round trip sets
 * both the tenant and the role; both end with the transaction (safe under PgBouncer).
 */
export async function inTenant<T>(db: Db | Trx, tenantId: string, fn: (trx: Trx) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw("select set_config('portico.tenant_id', ?, true), set_config('role', 'portico_app', true)", [tenantId]);
    return fn(trx);
  });
}

/** Turns on tenant isolation for a tenant-owned table; every migration that adds one calls it. */
export async function enableTenantIsolation(db: Knex, table: string): Promise<void> {
  await db.raw(`
    alter table ${table} enable row level security;
    create policy tenant_isolation on ${table}
      using (tenant_id = nullif(current_setting('portico.tenant_id', true), '')::uuid)
      with check (tenant_id = nullif(current_setting('portico.tenant_id', true), '')::uuid);
    grant select, insert, update, delete on ${table} to portico_app;
  `);
}
