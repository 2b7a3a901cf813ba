import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Trouble tickets: one row per ticket (about an asset, or about the customer's account), the thread
 * of comments and status changes in ticket_entries, and the company admins who follow a ticket.
 *
 * `updated_at` is the time of the last entry: both lists read newest activity first by keyset on
 * (updated_at, id), the customer's by customer, the staff queue by status. Ticket numbers are a
 * per-deployment sequence: people quote them on the phone, so they are short and never reused.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create sequence ticket_numbers;
    grant usage on sequence ticket_numbers to portico_app;

    create table tickets (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      number bigint not null default nextval('ticket_numbers'),
      customer_id uuid not null,
      asset_id uuid,
      subject varchar(200) not null,
      category varchar(20) not null check (category in ('technical', 'billing', 'subscription', 'other')),
      status varchar(24) not null default 'open'
        check (status in ('open', 'waiting_on_customer', 'resolved', 'closed')),
      opened_by uuid references users (id) on delete set null,
      opened_by_label varchar(300) not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      primary key (tenant_id, id),
      unique (tenant_id, number),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id),
      foreign key (tenant_id, asset_id) references assets (tenant_id, id) on delete set null (asset_id)
    );
    create index tickets_customer_idx on tickets (tenant_id, customer_id, updated_at desc, id desc);
    create index tickets_status_idx on tickets (tenant_id, status, updated_at desc, id desc);
    create index tickets_updated_idx on tickets (tenant_id, updated_at desc, id desc);
    create index tickets_asset_idx on tickets (tenant_id, asset_id, updated_at desc) where asset_id is not null;

    create table ticket_entries (
      tenant_id uuid not null,
      id bigint generated always as identity,
      ticket_id uuid not null,
      kind varchar(16) not null check (kind in ('comment', 'status_change')),
      author_id uuid references users (id) on delete set null,
      author_label varchar(300) not null,
      -- staff replies are told apart in the thread, and they are what mails the customer
      by_staff boolean not null default false,
      body text check (body is null or length(body) <= 10000),
      from_status varchar(24),
      to_status varchar(24),
      created_at timestamptz not null default now(),
      primary key (tenant_id, id),
      foreign key (tenant_id, ticket_id) references tickets (tenant_id, id) on delete cascade,
      check ((kind = 'comment' and body is not null) or (kind = 'status_change' and to_status is not null))
    );
    create index ticket_entries_thread_idx on ticket_entries (tenant_id, ticket_id, id);

    -- company admins who asked for mail about a ticket they did not open
    create table ticket_followers (
      tenant_id uuid not null,
      ticket_id uuid not null,
      user_id uuid not null references users (id) on delete cascade,
      created_at timestamptz not null default now(),
      primary key (tenant_id, ticket_id, user_id),
      foreign key (tenant_id, ticket_id) references tickets (tenant_id, id) on delete cascade
    );
  `);
  for (const table of ['tickets', 'ticket_entries', 'ticket_followers']) await enableTenantIsolation(db, table);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table ticket_followers, ticket_entries, tickets; drop sequence ticket_numbers');
}
