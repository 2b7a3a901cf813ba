import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Groups (nested), the assets in them with their subscription, requests about assets, and the
 * counters the list's tabs read instead of counting a customer's rows on every request.
 *
 * The asset list is read by keyset in the order (customer, group path, identifier, id). group_path
 * ("Trucks / North") is copied onto each asset so that order is one index range; renaming or
 * moving a group rewrites its assets' copies in the same transaction. `tab` buckets the status the
 * way the list's tabs do, so each tab is also one index range.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table groups (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      customer_id uuid not null,
      parent_id uuid,
      name varchar(200) not null,
      reference varchar(200),
      enabled boolean not null default true,
      path varchar(1000) not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (tenant_id, id),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id),
      foreign key (tenant_id, parent_id) references groups (tenant_id, id)
    );
    create index groups_customer_idx on groups (tenant_id, customer_id, path);
    create index groups_parent_idx on groups (tenant_id, parent_id) where parent_id is not null;

    -- the groups a group admin or supervisor is assigned to (they reach the sub-groups too)
    create table membership_groups (
      tenant_id uuid not null,
      membership_id uuid not null,
      group_id uuid not null,
      primary key (tenant_id, membership_id, group_id),
      foreign key (tenant_id, membership_id) references memberships (tenant_id, id) on delete cascade,
      foreign key (tenant_id, group_id) references groups (tenant_id, id) on delete cascade
    );
    create index membership_groups_group_idx on membership_groups (tenant_id, group_id);

    create table assets (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      customer_id uuid not null,
      group_id uuid,
      group_path varchar(1000) not null default '',
      identifier varchar(64) not null,
      name varchar(200) not null default '',
      status varchar(24) not null default 'inactive'
        check (status in ('inactive', 'activation_pending', 'active', 'deactivation_pending', 'deactivated')),
      tab varchar(24) generated always as (case
        when status in ('inactive', 'deactivated') then 'inactive'
        when status = 'activation_pending' then 'activation-pending'
        when status = 'deactivation_pending' then 'deactivation-pending'
        else 'active' end) stored,
      search_text text generated always as (lower(identifier || ' ' || name || ' ' || group_path)) stored,
      plan varchar(10) not null default 'monthly' check (plan in ('monthly', 'quarterly', 'yearly')),
      term_start date,
      term_end date,
      next_renewal_on date,
      renewal_unconfirmed boolean not null default false,
      last_latitude double precision,
      last_longitude double precision,
      last_located_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (tenant_id, id),
      unique (tenant_id, identifier),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id),
      foreign key (tenant_id, group_id) references groups (tenant_id, id)
    );
    create index assets_list_all_idx on assets (tenant_id, customer_id, group_path, identifier, id);
    create index assets_list_tab_idx on assets (tenant_id, tab, customer_id, group_path, identifier, id);
    create index assets_group_idx on assets (tenant_id, group_id, status);
    create index assets_renewal_idx on assets (tenant_id, next_renewal_on) where next_renewal_on is not null;
    create index assets_search_idx on assets using gin (search_text gin_trgm_ops);

    create table asset_requests (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      asset_id uuid not null,
      customer_id uuid not null,
      kind varchar(24) not null
        check (kind in ('activation', 'reactivation', 'deactivation', 'renewal_confirmation', 'group_move')),
      state varchar(12) not null default 'pending'
        check (state in ('pending', 'approved', 'rejected', 'cancelled', 'applied')),
      requested_by uuid references users (id) on delete set null,
      requested_by_label varchar(300) not null,
      requested_at timestamptz not null default now(),
      effective_on date,
      from_group_id uuid,
      to_group_id uuid,
      decided_by uuid references users (id) on delete set null,
      decided_by_label varchar(300),
      decided_at timestamptz,
      reason varchar(1000),
      primary key (tenant_id, id),
      foreign key (tenant_id, asset_id) references assets (tenant_id, id) on delete cascade
    );
    create index asset_requests_queue_idx on asset_requests (tenant_id, state, requested_at);
    create index asset_requests_asset_idx on asset_requests (tenant_id, asset_id, requested_at desc);
    -- one open request of a kind per asset
    create unique index asset_requests_one_pending_idx on asset_requests (tenant_id, asset_id, kind)
      where state = 'pending';

    -- tab badges: kept up to date by a trigger in the same transaction as every asset change
    create table asset_counts (
      tenant_id uuid not null,
      customer_id uuid not null,
      group_key uuid not null, -- the group, or the nil uuid for assets without one
      status varchar(24) not null,
      n bigint not null default 0,
      primary key (tenant_id, customer_id, group_key, status)
    );

    create function asset_counts_track() returns trigger language plpgsql as $$
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
    create trigger asset_counts_track after insert or delete or update of status, group_id, customer_id on assets
      for each row execute function asset_counts_track();
  `);
  for (const table of ['groups', 'membership_groups', 'assets', 'asset_requests', 'asset_counts']) {
    await enableTenantIsolation(db, table);
  }
}

export async function down(db: Knex): Promise<void> {
  await db.raw(
    'drop table asset_counts, asset_requests, assets, membership_groups, groups; drop function asset_counts_track()',
  );
}
