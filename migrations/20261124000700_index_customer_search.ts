import type { Knex } from 'knex';

/**
 * Customer search by title or account ID (case-insensitive substring, ILIKE '%term%') uses trigram
 * indexes. tenant_id cannot lead a GIN trigram index (a uuid has no trigram operator class), so these
 * find the matching rows across tenants and the tenant filter and row-level security then keep the
 * actor's own; customers per deployment are few enough for that to stay cheap.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create extension if not exists pg_trgm;
    create index customers_title_trgm_idx on customers using gin (title gin_trgm_ops);
    create index customers_account_id_trgm_idx on customers using gin (account_id gin_trgm_ops);
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop index customers_account_id_trgm_idx, customers_title_trgm_idx');
}
