import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Rollups of usage records, the source of every call summary: hourly ones for Live (today by hour),
 * daily ones for Daily and Monthly and for invoices (a year of months reads 366 rows a product, where
 * the hours would be 8,784: measured 25 ms against 2 ms a Monthly page). Pages over 10,000,000
 * records read a few hundred rollup rows, never the records. Statement-level triggers with transition
 * tables keep them in step with usage_records in the same transaction, whatever writes or re-prices
 * the records: one upsert per statement and bucket, not per row. A record lands in the bucket of its
 * own hour (UTC), so a record arriving late for an earlier day moves that day's figures; an update
 * moves a record out of its old bucket and into its new one (status, duration, price or time
 * changed). 'in_progress' counts as a call in progress, not an attempt, until it ends.
 */
const HOUR = `date_bin('1 hour', r.occurred_at, timestamptz '2000-01-01 00:00:00+00')`;
const DAY = `(r.occurred_at at time zone 'UTC')::date`;

/** The upsert into one rollup of one signed set of records (sign +1 for rows that arrive, -1 for rows that leave). */
const upsert = (table: 'usage_hourly' | 'usage_daily', source: string) => `
    insert into ${table} as h (tenant_id, customer_id, product, ${table === 'usage_hourly' ? 'hour' : 'day'},
      attempts, connected, in_progress, billed_seconds, billed_minutes, charge_minor)
    select r.tenant_id, r.customer_id, r.product, ${table === 'usage_hourly' ? HOUR : DAY},
      sum(r.sign * (r.status <> 'in_progress')::int),
      sum(r.sign * (r.status in ('answered', 'delivered'))::int),
      sum(r.sign * (r.status = 'in_progress')::int),
      sum(r.sign * case when r.status <> 'in_progress' then r.duration_seconds else 0 end),
      sum(r.sign * case when r.status <> 'in_progress' then ceil(r.duration_seconds / 60.0)::bigint else 0 end),
      sum(r.sign * case when r.status <> 'in_progress' then r.price_minor else 0 end)
    from (${source}) as r
    group by 1, 2, 3, 4
    -- the same order in every statement, so concurrent batches lock shared buckets in one order
    order by 1, 2, 3, 4
    on conflict (tenant_id, customer_id, product, ${table === 'usage_hourly' ? 'hour' : 'day'}) do update set
      attempts = h.attempts + excluded.attempts,
      connected = h.connected + excluded.connected,
      in_progress = h.in_progress + excluded.in_progress,
      billed_seconds = h.billed_seconds + excluded.billed_seconds,
      billed_minutes = h.billed_minutes + excluded.billed_minutes,
      charge_minor = h.charge_minor + excluded.charge_minor`;
/** Both rollups from the same signed set */
const apply = (source: string) => `${upsert('usage_hourly', source)};
${upsert('usage_daily', source)}`;

const COLUMNS = 'tenant_id, customer_id, product, occurred_at, status, duration_seconds, price_minor';

export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table usage_hourly (
      tenant_id uuid not null references tenants (id),
      customer_id uuid not null,
      product varchar(12) not null,
      -- the start of the hour, UTC
      hour timestamptz not null,
      -- ended records (calls that were tried, messages sent); in_progress ones are not counted yet
      attempts bigint not null default 0,
      -- answered calls and delivered messages
      connected bigint not null default 0,
      in_progress bigint not null default 0,
      billed_seconds bigint not null default 0,
      -- each call rounded up to the started minute
      billed_minutes bigint not null default 0,
      charge_minor bigint not null default 0,
      primary key (tenant_id, customer_id, product, hour),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id) on delete cascade
    );
    -- a customer's hours across products (summaries with every product)
    create index usage_hourly_customer_hour_idx on usage_hourly (tenant_id, customer_id, hour);

    create table usage_daily (
      tenant_id uuid not null references tenants (id),
      customer_id uuid not null,
      product varchar(12) not null,
      -- the calendar day, UTC
      day date not null,
      attempts bigint not null default 0,
      connected bigint not null default 0,
      in_progress bigint not null default 0,
      billed_seconds bigint not null default 0,
      billed_minutes bigint not null default 0,
      charge_minor bigint not null default 0,
      primary key (tenant_id, customer_id, product, day),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id) on delete cascade
    );
    create index usage_daily_customer_day_idx on usage_daily (tenant_id, customer_id, day);

    create function usage_hourly_after_insert() returns trigger language plpgsql as $$
    begin
      ${apply(`select ${COLUMNS}, 1 as sign from new_rows`)};
      return null;
    end $$;

    create function usage_hourly_after_delete() returns trigger language plpgsql as $$
    begin
      ${apply(`select ${COLUMNS}, -1 as sign from old_rows`)};
      return null;
    end $$;

    -- rows whose counted columns did not change cancel out (+1 and -1 in the same bucket); only
    -- changed ones are read twice, so an update of other columns (asset_id) costs one anti-join
    create function usage_hourly_after_update() returns trigger language plpgsql as $$
    begin
      ${apply(`
        select ${COLUMNS}, 1 as sign from (select n.* from new_rows n
          join old_rows o on o.tenant_id = n.tenant_id and o.id = n.id
          where (o.occurred_at, o.status, o.duration_seconds, o.price_minor, o.customer_id, o.product)
            is distinct from (n.occurred_at, n.status, n.duration_seconds, n.price_minor, n.customer_id,
              n.product)) as changed
        union all
        select ${COLUMNS}, -1 as sign from (select o.* from old_rows o
          join new_rows n on o.tenant_id = n.tenant_id and o.id = n.id
          where (o.occurred_at, o.status, o.duration_seconds, o.price_minor, o.customer_id, o.product)
            is distinct from (n.occurred_at, n.status, n.duration_seconds, n.price_minor, n.customer_id,
              n.product)) as changed`)};
      return null;
    end $$;

    create trigger usage_hourly_insert after insert on usage_records
      referencing new table as new_rows for each statement execute function usage_hourly_after_insert();
    create trigger usage_hourly_delete after delete on usage_records
      referencing old table as old_rows for each statement execute function usage_hourly_after_delete();
    -- transition tables allow no column list (update of ...): the function skips unchanged rows itself
    create trigger usage_hourly_update after update on usage_records
      referencing old table as old_rows new table as new_rows
        for each statement execute function usage_hourly_after_update();

    -- records written before this migration (the demo's, on an existing database)
    ${apply(`select ${COLUMNS}, 1 as sign from usage_records`)};
  `);
  await enableTenantIsolation(db, 'usage_hourly');
  await enableTenantIsolation(db, 'usage_daily');
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    drop trigger usage_hourly_insert on usage_records;
    drop trigger usage_hourly_delete on usage_records;
    drop trigger usage_hourly_update on usage_records;
    drop function usage_hourly_after_insert();
    drop function usage_hourly_after_delete();
    drop function usage_hourly_after_update();
    drop table usage_daily;
    drop table usage_hourly;
  `);
}
