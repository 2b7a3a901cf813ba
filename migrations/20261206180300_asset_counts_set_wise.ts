import type { Knex } from 'knex';

/**
 * A bulk action changes thousands of assets in one statement. The per-row counter trigger then
 * updates the same asset_counts row thousands of times in one transaction, and each update walks the
 * growing chain of that row's versions: 10,000 moved assets took 9 s in the trigger alone. A
 * transaction that keeps the counters itself, set-wise (the bulk actions), says so with the
 * transaction-local setting `portico.asset_counts = 'set-wise'`, and the trigger leaves its rows alone.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create or replace function asset_counts_track() returns trigger language plpgsql as $$
    begin
      if current_setting('portico.asset_counts', true) = 'set-wise' then
        return null;
      end if;
      if tg_op in ('UPDATE', 'DELETE') then
        update asset_counts set n = n - 1
         where tenant_id = old.tenant_id and customer_id = old.customer_id
           and group_key = coalesce(old.group_id, '00000000-0000-0000-0000-000000000000') and status = old.status;
      end if;
      if tg_op in ('INSERT', 'UPDATE') then
        insert into asset_counts as c (tenant_id, customer_id, group_key, status, n)
        values (new.tenant_id, new.customer_id, coalesce(new.group_id, '00000000-0000-0000-0000-000000000000'),
          new.status, 1)
        on conflict (tenant_id, customer_id, group_key, status) do update set n = c.n + 1;
      end if;
      return null;
    end $$;
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    create or replace function asset_counts_track() returns trigger language plpgsql as $$
    begin
      if tg_op in ('UPDATE', 'DELETE') then
        update asset_counts set n = n - 1
         where tenant_id = old.tenant_id and customer_id = old.customer_id
           and group_key = coalesce(old.group_id, '00000000-0000-0000-0000-000000000000') and status = old.status;
      end if;
      if tg_op in ('INSERT', 'UPDATE') then
        insert into asset_counts as c (tenant_id, customer_id, group_key, status, n)
        values (new.tenant_id, new.customer_id, coalesce(new.group_id, '00000000-0000-0000-0000-000000000000'),
          new.status, 1)
        on conflict (tenant_id, customer_id, group_key, status) do update set n = c.n + 1;
      end if;
      return null;
    end $$;
  `);
}
