import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Tenant isolation, second line: every tenant-owned table admits only the rows of the tenant set
 * for the transaction (portico.tenant_id). It binds portico_app, the role tenant-context
 * transactions switch to; the owning role (migrations, sign-in, cross-tenant jobs) is not bound.
 */
export async function up(db: Knex): Promise<void> {
  for (const table of ['customers', 'partners', 'memberships', 'audit_log', 'outbox']) {
    await enableTenantIsolation(db, table);
  }
  await db.raw(`
    alter table tenants enable row level security;
    create policy tenant_isolation on tenants using (id = nullif(current_setting('portico.tenant_id', true), '')::uuid);
    grant select on tenants to portico_app;
    -- people and their tokens are not tenant-owned (one login may serve several tenants)
    grant select, insert, update, delete on users, user_tokens, session, rate_limits to portico_app;
  `);
}

export async function down(): Promise<void> {}
