import type { Knex } from 'knex';

/**
 * The asset search's way to its trigram index. Under row-level security PostgreSQL may not use an
 * index for a condition whose operator is not leakproof (LIKE is not) before the tenant policy has
 * passed the row, so `search_text like '%term%'` in a request's transaction reads every row of the
 * scope. This function runs the match as the owning role, which row-level security does not bind,
 * for the tenant of the calling transaction only (portico.tenant_id, as the policy reads it), and
 * answers the matching asset ids, or null when there are more than max_ids: a broad term, which the
 * list then filters while it reads in order instead.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create function asset_ids_matching(pattern text, max_ids integer)
    returns uuid[]
    language sql stable security definer
    set search_path = pg_catalog, public
    as $$
      select case when count(*) > max_ids then null else coalesce(array_agg(m.id), '{}') end
      from (
        select a.id from public.assets a
        where a.tenant_id = nullif(current_setting('portico.tenant_id', true), '')::uuid
          and a.search_text like pattern
        limit max_ids + 1
      ) m
    $$;
    revoke all on function asset_ids_matching(text, integer) from public;
    grant execute on function asset_ids_matching(text, integer) to portico_app;
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop function asset_ids_matching(text, integer)');
}
