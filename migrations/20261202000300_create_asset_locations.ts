import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Every position a device reported, as the ingestion API and CSV import received them. The asset
 * row keeps the newest (last_latitude, last_longitude, last_located_at) for lists and maps; this
 * keeps the track, and its key makes a position sent twice (a retry, a re-imported file) a no-op:
 * one device is in one place at one moment.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table asset_locations (
      tenant_id uuid not null,
      asset_id uuid not null,
      recorded_at timestamptz not null,
      latitude double precision not null check (latitude between -90 and 90),
      longitude double precision not null check (longitude between -180 and 180),
      received_at timestamptz not null default now(),
      primary key (tenant_id, asset_id, recorded_at),
      foreign key (tenant_id, asset_id) references assets (tenant_id, id) on delete cascade
    );
  `);
  await enableTenantIsolation(db, 'asset_locations');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table asset_locations');
}
