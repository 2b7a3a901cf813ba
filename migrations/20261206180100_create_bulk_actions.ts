import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Bulk actions on assets: a preview of what one action would do to each selected asset (or why it
 * skips it), kept so the person confirms exactly what they saw, and then the result per asset, which
 * the result page and its CSV read. Only the membership that previewed it sees or confirms it.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table bulk_actions (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      membership_id uuid not null,
      action varchar(24) not null
        check (action in ('move', 'deactivate', 'cancel-deactivation', 'confirm-renewal', 'export')),
      group_id uuid,
      group_path varchar(1000),
      selection varchar(300) not null,
      state varchar(12) not null default 'previewed' check (state in ('previewed', 'done')),
      total integer not null default 0,
      ready integer not null default 0,
      done integer not null default 0,
      skipped integer not null default 0,
      created_at timestamptz not null default now(),
      finished_at timestamptz,
      primary key (tenant_id, id),
      foreign key (tenant_id, membership_id) references memberships (tenant_id, id) on delete cascade
    );
    create index bulk_actions_membership_idx on bulk_actions (tenant_id, membership_id, created_at desc);

    create table bulk_action_items (
      tenant_id uuid not null,
      bulk_action_id uuid not null,
      position integer not null,
      asset_id uuid not null,
      identifier varchar(64) not null,
      name varchar(200) not null,
      outcome varchar(12) not null check (outcome in ('ready', 'skipped', 'done')),
      reason varchar(300),
      effective_on date,
      primary key (tenant_id, bulk_action_id, position),
      foreign key (tenant_id, bulk_action_id) references bulk_actions (tenant_id, id) on delete cascade
    );
  `);
  for (const table of ['bulk_actions', 'bulk_action_items']) await enableTenantIsolation(db, table);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table bulk_action_items, bulk_actions');
}
