import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * API keys of a tenant for the /api/v1 integration API, and the answers of idempotent requests.
 * A key is stored only as its SHA-256 hash; the prefix (the first characters after `pk_`) lets
 * staff tell keys apart without the secret. Authentication looks a key up by hash before any
 * tenant is known, so the hash is unique across the deployment.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table api_keys (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      name varchar(100) not null,
      key_hash bytea not null,
      key_prefix varchar(16) not null,
      created_by uuid references users (id) on delete set null,
      created_by_label varchar(300) not null,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz,
      primary key (tenant_id, id)
    );
    create unique index api_keys_hash_idx on api_keys (key_hash);

    -- the first answer to each Idempotency-Key, replayed to a retry of the same request
    create table idempotency_keys (
      tenant_id uuid not null references tenants (id),
      key varchar(200) not null,
      request_hash bytea not null,
      status smallint not null,
      body jsonb not null,
      created_at timestamptz not null default now(),
      primary key (tenant_id, key)
    );
    create index idempotency_keys_created_idx on idempotency_keys (created_at);
  `);
  await enableTenantIsolation(db, 'api_keys');
  await enableTenantIsolation(db, 'idempotency_keys');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table idempotency_keys, api_keys');
}
