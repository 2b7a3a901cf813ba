import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Invoices made from call summary rows. Numbers come from a counter row per tenant, locked by the
 * generating transaction (not a sequence: a sequence leaves gaps when a transaction rolls back), so
 * a tenant's numbers run 1, 2, 3… without gaps. invoiced_usage_days claims every day and product an
 * invoice covers: its primary key is what stops a usage period from being invoiced twice, even by
 * two staff at once; voiding an invoice releases its claims.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table invoice_counters (
      tenant_id uuid primary key references tenants (id),
      last_number integer not null default 0
    );

    create table invoices (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      customer_id uuid not null,
      number integer not null check (number > 0),
      status varchar(8) not null default 'draft' check (status in ('draft', 'issued', 'paid', 'void')),
      currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
      -- the summary rows it was made from: 'daily' or 'monthly', and the product (null: every product)
      granularity varchar(8) not null check (granularity in ('daily', 'monthly')),
      product varchar(12),
      -- first and last day covered, UTC, inclusive
      period_start date not null,
      period_end date not null check (period_end >= period_start),
      total_minor bigint not null,
      created_by uuid references users (id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      issued_at timestamptz,
      paid_at timestamptz,
      voided_at timestamptz,
      primary key (tenant_id, id),
      unique (tenant_id, number),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id)
    );
    create index invoices_customer_idx on invoices (tenant_id, customer_id, number desc);
    -- billing systems page through changes: updated_at, then id
    create index invoices_updated_idx on invoices (tenant_id, updated_at, id);

    create table invoice_lines (
      tenant_id uuid not null,
      invoice_id uuid not null,
      position integer not null,
      description varchar(200) not null,
      period_start date not null,
      period_end date not null,
      attempts bigint not null,
      connected bigint not null,
      billed_minutes bigint not null,
      amount_minor bigint not null,
      primary key (tenant_id, invoice_id, position),
      foreign key (tenant_id, invoice_id) references invoices (tenant_id, id) on delete cascade
    );

    create table invoiced_usage_days (
      tenant_id uuid not null,
      customer_id uuid not null,
      product varchar(12) not null,
      day date not null,
      invoice_id uuid not null,
      primary key (tenant_id, customer_id, product, day),
      foreign key (tenant_id, invoice_id) references invoices (tenant_id, id) on delete cascade
    );
    create index invoiced_usage_days_invoice_idx on invoiced_usage_days (tenant_id, invoice_id);
  `);
  for (const table of ['invoice_counters', 'invoices', 'invoice_lines', 'invoiced_usage_days'])
    await enableTenantIsolation(db, table);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table invoiced_usage_days, invoice_lines, invoices, invoice_counters');
}
