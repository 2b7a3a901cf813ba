import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * The one table of metered usage (voice calls, SMS, video sessions, messaging-app messages) that an
 * asset's call data records, a customer's call summaries and a partner's usage logs all read, and
 * the money columns those views share: every customer bills in one ISO currency, in integer minor
 * units; balance and debit limit are kept on the customer row (the billing ledger moves them).
 *
 * Ids are a bigint sequence, not uuids: at 10,000,000 rows keyset paging on (time, id) wants a
 * small, ordered tie-breaker, and the indexes stay half the size.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table customers
      add column currency char(3) not null default 'EUR' check (currency ~ '^[A-Z]{3}$'),
      add column balance_minor bigint not null default 0,
      add column debit_limit_minor bigint not null default 0 check (debit_limit_minor >= 0);

    create table usage_records (
      tenant_id uuid not null references tenants (id),
      id bigint generated always as identity,
      customer_id uuid not null,
      asset_id uuid,
      product varchar(12) not null check (product in ('sms', 'voice', 'video', 'messaging')),
      occurred_at timestamptz not null,
      direction varchar(8) not null check (direction in ('inbound', 'outbound')),
      status varchar(12) not null
        check (status in ('in_progress', 'answered', 'no_answer', 'busy', 'failed', 'delivered', 'pending',
          'rejected')),
      from_number varchar(32) not null,
      to_number varchar(32) not null,
      -- voice and video: seconds connected; messages: 0
      duration_seconds integer not null default 0 check (duration_seconds >= 0),
      -- messages: parts billed (an SMS of 2 segments is 2); calls and sessions: 1
      units integer not null default 1 check (units >= 0),
      price_minor bigint not null default 0,
      currency char(3) not null,
      -- messages only; never sent to a partner's browser
      contact_name varchar(200),
      content text,
      received_at timestamptz not null default now(),
      primary key (tenant_id, id),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id),
      foreign key (tenant_id, asset_id) references assets (tenant_id, id) on delete set null (asset_id)
    );
    -- a customer's log of one product, newest first (partner usage logs, summaries, exports)
    create index usage_records_customer_idx on usage_records (tenant_id, customer_id, product, occurred_at desc,
      id desc);
    -- an asset's call data records, newest first
    create index usage_records_asset_idx on usage_records (tenant_id, asset_id, occurred_at desc, id desc)
      where asset_id is not null;
    -- calls and sessions going on now: the "channels in use" figure
    create index usage_records_in_progress_idx on usage_records (tenant_id, customer_id) where status = 'in_progress';
  `);
  await enableTenantIsolation(db, 'usage_records');
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    drop table usage_records;
    alter table customers drop column currency, drop column balance_minor, drop column debit_limit_minor;
  `);
}
