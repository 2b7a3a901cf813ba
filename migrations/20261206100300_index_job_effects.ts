import type { Knex } from 'knex';

/**
 * A tenant admin's Jobs page lists the latest of what the jobs did for the tenant: automatic
 * renewals and applied deactivations (audit entries without a person, so a small partial index)
 * and renewal reminders (one mail is one person's rows of one run, found by stepping down this
 * index). Without these the page would read the tenant's whole history.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create index audit_log_system_action_idx on audit_log (tenant_id, action, id desc) where actor_user_id is null;
    create index renewal_reminders_sent_at_idx on renewal_reminders_sent (tenant_id, sent_at, user_id);
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop index audit_log_system_action_idx, renewal_reminders_sent_at_idx');
}
