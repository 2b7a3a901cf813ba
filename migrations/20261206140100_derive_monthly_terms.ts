import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Monthly plans are no longer rewritten on the 1st: their term is the calendar month, derived when
 * read (currentTerm in subscription-rules.ts). The renewal job still says how many monthly terms
 * began, once: this keeps, per tenant, the day it last counted through. assets_monthly_term_idx
 * (active monthly plans by stored term end) stays: that count reads it.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table monthly_rollovers (
      tenant_id uuid not null references tenants (id) primary key,
      counted_through date not null
    );
  `);
  await enableTenantIsolation(db, 'monthly_rollovers');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table monthly_rollovers');
}
