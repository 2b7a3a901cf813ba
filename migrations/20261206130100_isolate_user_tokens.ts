import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * user_tokens carries the tenant that issued each token but was left out of row-level security, so a
 * tenant's transaction could read (and revoke) every tenant's activation, reset and login-link tokens.
 * Tokens issued outside any tenant (tenant_id null) are read only outside a tenant's transaction.
 */
export async function up(db: Knex): Promise<void> {
  await enableTenantIsolation(db, 'user_tokens');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop policy tenant_isolation on user_tokens; alter table user_tokens disable row level security');
}
