import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Serviced sites: a site has a geofence (a GeoJSON polygon, with its bounding box kept beside it so
 * a map can be framed without parsing every polygon) and belongs to at most one customer. Services are
 * the kinds of work the provider performs; a service visit is one vehicle at one site for one service.
 * Pictures (of a site, or of a visit) are kept in PostgreSQL, so every app instance serves them.
 * A customer's portal access (on/off and the six Live View permissions) is one row per customer;
 * a site viewer reaches the sites listed for their membership.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table services (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      name varchar(120) not null,
      created_at timestamptz not null default now(),
      primary key (tenant_id, id)
    );
    create unique index services_name_key on services (tenant_id, lower(name));

    create table sites (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      customer_id uuid,
      name varchar(200) not null,
      address varchar(500),
      geofence jsonb not null,
      min_latitude double precision not null,
      min_longitude double precision not null,
      max_latitude double precision not null,
      max_longitude double precision not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (tenant_id, id),
      -- deleting a customer leaves its sites unattached rather than deleting the provider's sites
      foreign key (tenant_id, customer_id) references customers (tenant_id, id) on delete set null (customer_id)
    );
    create index sites_customer_idx on sites (tenant_id, customer_id, name);
    create index sites_name_idx on sites (tenant_id, lower(name));

    create table service_visits (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      site_id uuid not null,
      service_id uuid,
      vehicle varchar(120) not null,
      started_at timestamptz not null,
      ended_at timestamptz not null,
      completed boolean not null default true,
      notes varchar(2000),
      source varchar(10) not null default 'staff' check (source in ('staff', 'api', 'import', 'demo')),
      created_at timestamptz not null default now(),
      primary key (tenant_id, id),
      foreign key (tenant_id, site_id) references sites (tenant_id, id) on delete cascade,
      foreign key (tenant_id, service_id) references services (tenant_id, id),
      check (ended_at >= started_at)
    );
    create index service_visits_site_idx on service_visits (tenant_id, site_id, started_at);

    create table pictures (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      site_id uuid not null,
      visit_id uuid,
      content_type varchar(40) not null check (content_type in ('image/png', 'image/jpeg', 'image/webp')),
      byte_size integer not null,
      bytes bytea not null,
      caption varchar(200),
      created_at timestamptz not null default now(),
      primary key (tenant_id, id),
      foreign key (tenant_id, site_id) references sites (tenant_id, id) on delete cascade,
      foreign key (tenant_id, visit_id) references service_visits (tenant_id, id) on delete cascade
    );
    create index pictures_site_idx on pictures (tenant_id, site_id, created_at) where visit_id is null;
    create index pictures_visit_idx on pictures (tenant_id, visit_id) where visit_id is not null;

    create table portal_access (
      tenant_id uuid not null,
      customer_id uuid not null,
      enabled boolean not null default false,
      view_jobs boolean not null default false,
      view_site_pictures boolean not null default false,
      view_vehicle_visits boolean not null default false,
      filter_by_service boolean not null default false,
      view_service_name boolean not null default false,
      view_service_pictures boolean not null default false,
      updated_at timestamptz not null default now(),
      primary key (tenant_id, customer_id),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id) on delete cascade
    );

    create table membership_sites (
      tenant_id uuid not null,
      membership_id uuid not null,
      site_id uuid not null,
      primary key (tenant_id, membership_id, site_id),
      foreign key (tenant_id, membership_id) references memberships (tenant_id, id) on delete cascade,
      foreign key (tenant_id, site_id) references sites (tenant_id, id) on delete cascade
    );
    create index membership_sites_site_idx on membership_sites (tenant_id, site_id);
  `);
  for (const table of ['services', 'sites', 'service_visits', 'pictures', 'portal_access', 'membership_sites']) {
    await enableTenantIsolation(db, table);
  }
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table membership_sites, portal_access, pictures, service_visits, sites, services');
}
