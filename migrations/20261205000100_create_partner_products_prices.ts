import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Partners (resellers) and what they see of their customers: a customer is sold through at most
 * one partner (customers.partner_id); each customer has the products switched on for it and a
 * price list per product with validity dates, which prices every usage record as it arrives.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table customers add column partner_id uuid,
      add foreign key (tenant_id, partner_id) references partners (tenant_id, id) on delete set null (partner_id);
    -- a partner's "Manage customers" list, by title
    create index customers_partner_idx on customers (tenant_id, partner_id, lower(title), id)
      where partner_id is not null;

    create table customer_products (
      tenant_id uuid not null,
      customer_id uuid not null,
      product varchar(12) not null check (product in ('sms', 'voice', 'video', 'messaging')),
      enabled_at timestamptz not null default now(),
      primary key (tenant_id, customer_id, product),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id) on delete cascade
    );

    -- the price of one unit of a product (an SMS part, a started minute, an answered session, an app message)
    create table price_lists (
      tenant_id uuid not null,
      id bigint generated always as identity,
      customer_id uuid not null,
      product varchar(12) not null check (product in ('sms', 'voice', 'video', 'messaging')),
      unit_price_minor bigint not null check (unit_price_minor >= 0),
      valid_from timestamptz not null,
      valid_until timestamptz,
      created_at timestamptz not null default now(),
      primary key (tenant_id, id),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id) on delete cascade,
      check (valid_until is null or valid_until > valid_from)
    );
    -- the price in force at a time: the latest list that started before it
    create index price_lists_lookup_idx on price_lists (tenant_id, customer_id, product, valid_from desc);

    -- the partner usage log's filters keep their keyset order on an index of their own
    create index usage_records_customer_status_idx on usage_records (tenant_id, customer_id, product, status,
      occurred_at desc, id desc);
    create index usage_records_customer_direction_idx on usage_records (tenant_id, customer_id, product, direction,
      occurred_at desc, id desc);
  `);
  await enableTenantIsolation(db, 'customer_products');
  await enableTenantIsolation(db, 'price_lists');
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    drop index usage_records_customer_status_idx, usage_records_customer_direction_idx;
    drop table price_lists, customer_products;
    alter table customers drop column partner_id;
  `);
}
