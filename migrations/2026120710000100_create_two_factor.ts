import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Two-factor sign-in (TOTP, RFC 6238). A login's second factor belongs to the login, not to one of its
 * memberships, so its tables are the deployment's, like users. The secret is stored encrypted (AES-256-GCM,
 * a key derived from SESSION_SECRET) and the recovery codes as keyed hashes, so a read of the database alone
 * gives neither away. last_step: the newest time step accepted, so a code cannot be used twice.
 *
 * Tenant transactions (the portico_app role) may see only whether a login has two-factor, and remove it
 * (staff reset it): never read the secret or the hashes.
 *
 * two_factor_settings: whom a tenant requires it of (its staff, its customers' company admins).
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table two_factor_logins (
      user_id uuid primary key references users (id) on delete cascade,
      secret text not null,
      last_step bigint,
      enabled_at timestamptz not null default now()
    );
    create table two_factor_recovery_codes (
      user_id uuid not null references two_factor_logins (user_id) on delete cascade,
      code_hash text not null,
      primary key (user_id, code_hash)
    );
    revoke all on two_factor_logins, two_factor_recovery_codes from portico_app;
    grant select (user_id, enabled_at), delete on two_factor_logins to portico_app;

    create table two_factor_settings (
      tenant_id uuid not null references tenants (id),
      staff boolean not null default false,
      company_admins boolean not null default false,
      updated_at timestamptz not null default now(),
      primary key (tenant_id)
    );
  `);
  await enableTenantIsolation(db, 'two_factor_settings');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table two_factor_settings, two_factor_recovery_codes, two_factor_logins');
}
