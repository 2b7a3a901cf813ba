import type { Knex } from 'knex';

/**
 * One-time secrets in mail (reset, activation and confirmation links, generated passwords, mobile codes):
 * redacted_text is the message with each secret replaced by "[redacted]", written when the message is
 * queued. Once delivered, body_text becomes that text, so the outbox no longer holds the secret; while
 * it is set, the outgoing mail page shows it instead of the body (kept mail outside production aside).
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('alter table outbox add column redacted_text text');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('alter table outbox drop column redacted_text');
}
