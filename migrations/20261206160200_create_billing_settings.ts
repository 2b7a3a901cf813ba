import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * A provider's billing switches, one row per tenant (none: the defaults). block_over_limit: the
 * ingestion refuses usage records of an account over its debit limit (each with a per-record
 * error) instead of accepting and charging them; off unless the provider turns it on.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table billing_settings (
      tenant_id uuid not null references tenants (id),
      block_over_limit boolean not null default false,
      updated_at timestamptz not null default now(),
      primary key (tenant_id)
    );
  `);
  await enableTenantIsolation(db, 'billing_settings');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table billing_settings');
}
