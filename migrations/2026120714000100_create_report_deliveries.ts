import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Scheduled reports (the weekly fleet digest, the monthly statement): `report_deliveries` holds one row
 * per report a person was sent, keyed by (tenant, person, report, first day of the period in the person's
 * time zone), written in the SAME transaction as the mail that carries it, so a rerun, a crash or a
 * second instance never sends a period's report twice (the renewal reminders' mechanism).
 * Their switches are two more kinds of notification_settings.
 * `outbox.attachments`: the files a message carries (a report's CSV), as a JSON array of
 * { filename, contentType, content } with text content, handed to nodemailer as they are.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table report_deliveries (
      tenant_id uuid not null references tenants (id),
      user_id uuid not null references users (id) on delete cascade,
      report varchar(40) not null check (report in ('weekly_digest', 'monthly_statement')),
      period_start date not null,
      sent_at timestamptz not null default now(),
      primary key (tenant_id, user_id, report, period_start)
    );
    alter table outbox add column attachments jsonb;
    alter table notification_settings drop constraint notification_settings_kind_check,
      add constraint notification_settings_kind_check
        check (kind in ('renewal_reminders', 'ticket_updates', 'weekly_digest', 'monthly_statement'));
  `);
  await enableTenantIsolation(db, 'report_deliveries');
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    delete from notification_settings where kind in ('weekly_digest', 'monthly_statement');
    alter table notification_settings drop constraint notification_settings_kind_check,
      add constraint notification_settings_kind_check check (kind in ('renewal_reminders', 'ticket_updates'));
    alter table outbox drop column attachments;
    drop table report_deliveries;
  `);
}
