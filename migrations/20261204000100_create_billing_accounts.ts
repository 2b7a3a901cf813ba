import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * The telecom account of a customer: the ledger that moves its balance (one row per movement;
 * customers.balance_minor is their sum, kept in the same transaction), the tenant's number range
 * and the internal number blocks assigned from it, and the notes staff keep on a contact.
 * Contacts are customer users: what is about the person (mobile, verified flags, a password that
 * must be changed) sits on users, what belongs to the account (notes) on the membership.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table billing_ledger (
      tenant_id uuid not null references tenants (id),
      id bigint generated always as identity,
      customer_id uuid not null,
      -- debit_limit: a change of the limit, amount 0, so the account's whole history reads in one list
      kind varchar(20) not null check (kind in ('payment', 'credit_note', 'debit_limit', 'invoice', 'adjustment')),
      amount_minor bigint not null,
      currency char(3) not null,
      balance_after_minor bigint not null,
      debit_limit_after_minor bigint not null,
      reference varchar(100),
      created_by uuid,
      created_at timestamptz not null default now(),
      primary key (tenant_id, id),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id) on delete cascade,
      check (kind = 'debit_limit' and amount_minor = 0 or kind <> 'debit_limit')
    );
    create index billing_ledger_customer_idx on billing_ledger (tenant_id, customer_id, id desc);

    -- one row per tenant: its number range parameters; the row is also the lock "+" takes
    create table number_ranges (
      tenant_id uuid not null references tenants (id),
      first_number bigint not null check (first_number >= 0),
      last_number bigint not null,
      block_size integer not null check (block_size >= 1),
      updated_at timestamptz not null default now(),
      primary key (tenant_id),
      check (last_number >= first_number),
      check (block_size <= last_number - first_number + 1)
    );

    create table number_blocks (
      tenant_id uuid not null references tenants (id),
      id bigint generated always as identity,
      customer_id uuid not null,
      first_number bigint not null,
      last_number bigint not null,
      assigned_at timestamptz not null default now(),
      released_at timestamptz,
      primary key (tenant_id, id),
      foreign key (tenant_id, customer_id) references customers (tenant_id, id) on delete cascade,
      check (last_number >= first_number)
    );
    -- a number is in at most one assigned block: the last word if two assignments ever raced
    create unique index number_blocks_assigned_key on number_blocks (tenant_id, first_number) where released_at is null;
    create index number_blocks_customer_idx on number_blocks (tenant_id, customer_id) where released_at is null;

    create table contact_notes (
      tenant_id uuid not null references tenants (id),
      membership_id uuid not null,
      -- shown to the customer on /billing
      public_notes text not null default '',
      -- staff only: never selected by anything a customer user reaches
      private_notes text not null default '',
      updated_at timestamptz not null default now(),
      primary key (tenant_id, membership_id),
      foreign key (tenant_id, membership_id) references memberships (tenant_id, id) on delete cascade
    );

    alter table users
      add column mobile varchar(32),
      add column email_verified boolean not null default false,
      add column mobile_verified boolean not null default false,
      -- a password generated or typed by staff: the next sign-in leads to "set a new password" first
      add column must_change_password boolean not null default false;

    alter table user_tokens drop constraint user_tokens_purpose_check;
    alter table user_tokens add constraint user_tokens_purpose_check
      check (purpose in ('activation', 'password_reset', 'login_link', 'email_verification', 'mobile_verification'));
  `);
  for (const table of ['billing_ledger', 'number_ranges', 'number_blocks', 'contact_notes'])
    await enableTenantIsolation(db, table);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    drop table contact_notes, number_blocks, number_ranges, billing_ledger;
    alter table users drop column mobile, drop column email_verified, drop column mobile_verified,
      drop column must_change_password;
  `);
}
