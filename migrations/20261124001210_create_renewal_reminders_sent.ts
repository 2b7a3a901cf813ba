import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Renewal reminders: `renewal_reminders_sent` holds one row per reminder ever queued, keyed so that
 * the same reminder (asset, renewal, week, person) can be recorded once only; the row is written in
 * the same transaction as the mail that carries it, so a rerun, a crash or a second instance never
 * sends it twice. `renewal_reminder_queue` is the job's scratch list between finding what is due
 * (by asset) and writing one mail per person: unlogged, since the job rebuilds it on every run.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table renewal_reminders_sent (
      tenant_id uuid not null references tenants (id),
      asset_id uuid not null,
      renewal_on date not null,
      week smallint not null check (week between 1 and 4),
      user_id uuid not null references users (id) on delete cascade,
      sent_at timestamptz not null default now(),
      primary key (tenant_id, asset_id, renewal_on, week, user_id),
      foreign key (tenant_id, asset_id) references assets (tenant_id, id) on delete cascade
    );

    create unlogged table renewal_reminder_queue (
      tenant_id uuid not null,
      user_id uuid not null,
      asset_id uuid not null,
      renewal_on date not null,
      week smallint not null,
      -- why this person gets it: 0 company admin of the customer named, 1 assigned to the group named
      via smallint not null,
      via_name varchar(1000) not null,
      primary key (tenant_id, user_id, asset_id, renewal_on, week)
    );
  `);
  for (const table of ['renewal_reminders_sent', 'renewal_reminder_queue']) await enableTenantIsolation(db, table);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table renewal_reminder_queue, renewal_reminders_sent');
}
