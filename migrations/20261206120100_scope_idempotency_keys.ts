import type { Knex } from 'knex';

/**
 * An Idempotency-Key belongs to the API key that sent it and to the method and path it was sent to:
 * two integrations of one tenant may pick the same key without ever meeting (issue 17). The answers
 * kept so far cannot be told apart by key, so they go; they were kept for a day at most.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    delete from idempotency_keys;
    alter table idempotency_keys
      drop constraint idempotency_keys_pkey,
      add column api_key_id uuid not null,
      add column method varchar(10) not null,
      add column path varchar(200) not null,
      add primary key (tenant_id, api_key_id, method, path, key),
      add foreign key (tenant_id, api_key_id) references api_keys (tenant_id, id);
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    delete from idempotency_keys;
    alter table idempotency_keys
      drop constraint idempotency_keys_pkey,
      drop column api_key_id,
      drop column method,
      drop column path,
      add primary key (tenant_id, key);
  `);
}
