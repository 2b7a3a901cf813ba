import type { Knex } from 'knex';

/**
 * Tenants, their customers and partners, and people: one user per login (email unique in the
 * deployment) with memberships that each give that user one role in one place.
 * Tenant-owned tables key on (tenant_id, id) so the schema can later be distributed by tenant.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table tenants (
      id uuid primary key default gen_random_uuid(),
      name varchar(200) not null,
      settings jsonb not null default '{}',
      created_at timestamptz not null default now()
    );

    create table customers (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      parent_id uuid,
      title varchar(200) not null,
      account_id varchar(32) not null,
      contact_name varchar(200),
      email varchar(254),
      phone varchar(40),
      address varchar(500),
      home_page varchar(20) not null default 'assets',
      status varchar(20) not null default 'active' check (status in ('active', 'suspended')),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (tenant_id, id),
      unique (tenant_id, account_id),
      foreign key (tenant_id, parent_id) references customers (tenant_id, id)
    );
    create index customers_parent_idx on customers (tenant_id, parent_id) where parent_id is not null;

    create table partners (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      name varchar(200) not null,
      created_at timestamptz not null default now(),
      primary key (tenant_id, id)
    );

    create table users (
      id uuid primary key default gen_random_uuid(),
      email varchar(254) not null,
      name varchar(200) not null,
      password_hash text,
      status varchar(20) not null default 'pending' check (status in ('pending', 'active', 'disabled')),
      time_zone varchar(64) not null default 'UTC',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create unique index users_email_key on users (lower(email));

    create table memberships (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      user_id uuid not null references users (id) on delete cascade,
      role varchar(30) not null check (role in ('tenant_admin', 'support_agent', 'company_admin',
        'group_admin', 'group_supervisor', 'site_viewer', 'partner_viewer')),
      customer_id uuid,
      partner_id uuid,
      created_at timestamptz not null default now(),
      primary key (tenant_id, id),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id) on delete cascade,
      foreign key (tenant_id, partner_id) references partners (tenant_id, id) on delete cascade,
      check (case
        when role in ('tenant_admin', 'support_agent') then customer_id is null and partner_id is null
        when role = 'partner_viewer' then partner_id is not null and customer_id is null
        else customer_id is not null and partner_id is null end)
    );
    create index memberships_user_idx on memberships (user_id);
    create index memberships_customer_idx on memberships (tenant_id, customer_id) where customer_id is not null;
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table memberships, users, partners, customers, tenants');
}
