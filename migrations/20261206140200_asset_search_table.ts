import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * The trigram index of the asset search in a table of its own. On assets it took dozens of entries
 * for every new row version, so every write that could not be a HOT update (a renewal, a move, a
 * last location on a full page) paid for the search text again though it had not changed, and left
 * work for the index's pending list and vacuum. asset_search holds each asset's search text (the
 * generated assets.search_text, which stays for the list's in-order filter) and changes only when
 * the identifier, name or group path does. Triggers keep it: inserts and deletes by statement, over
 * the rows they touched; updates by row, only when an UPDATE sets one of those columns and the text
 * changes. asset_ids_matching, the search's way to the index, reads it.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table asset_search (
      tenant_id uuid not null,
      asset_id uuid not null,
      search_text text not null,
      primary key (tenant_id, asset_id)
    );
    insert into asset_search (tenant_id, asset_id, search_text) select tenant_id, id, search_text from assets;
    create index asset_search_text_idx on asset_search using gin (search_text gin_trgm_ops);
    drop index assets_search_idx;

    create function asset_search_add() returns trigger language plpgsql as $$
    begin
      insert into asset_search (tenant_id, asset_id, search_text) select tenant_id, id, search_text from added;
      return null;
    end $$;
    create trigger asset_search_add after insert on assets
      referencing new table as added for each statement execute function asset_search_add();

    create function asset_search_remove() returns trigger language plpgsql as $$
    begin
      delete from asset_search s using gone g where s.tenant_id = g.tenant_id and s.asset_id = g.id;
      return null;
    end $$;
    create trigger asset_search_remove after delete on assets
      referencing old table as gone for each statement execute function asset_search_remove();

    create function asset_search_change() returns trigger language plpgsql as $$
    begin
      update asset_search set search_text = new.search_text where tenant_id = new.tenant_id and asset_id = new.id;
      return null;
    end $$;
    create trigger asset_search_change after update of identifier, name, group_path on assets
      for each row when (old.search_text is distinct from new.search_text) execute function asset_search_change();

    create or replace function asset_ids_matching(pattern text, max_ids integer)
    returns uuid[]
    language sql stable security definer
    set search_path = pg_catalog, public
    as $$
      select case when count(*) > max_ids then null else coalesce(array_agg(m.asset_id), '{}') end
      from (
        select s.asset_id from public.asset_search s
        where s.tenant_id = nullif(current_setting('portico.tenant_id', true), '')::uuid
          and s.search_text like pattern
        limit max_ids + 1
      ) m
    $$;
  `);
  await enableTenantIsolation(db, 'asset_search');
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    create or replace function asset_ids_matching(pattern text, max_ids integer)
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
    drop trigger asset_search_add on assets;
    drop trigger asset_search_remove on assets;
    drop trigger asset_search_change on assets;
    drop function asset_search_add(), asset_search_remove(), asset_search_change();
    create index assets_search_idx on assets using gin (search_text gin_trgm_ops);
    drop table asset_search;
  `);
}
