import type { Knex } from 'knex';

/**
 * Revocation that sticks: a session issued before its user's (or, for staff ending a person's sessions
 * with one provider, its membership's) sessions_valid_after is refused on every request, so a request
 * in flight that stores its session again, or any copy of a session row, cannot bring it back.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table users add column sessions_valid_after timestamptz;
    alter table memberships add column sessions_valid_after timestamptz;
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    alter table users drop column sessions_valid_after;
    alter table memberships drop column sessions_valid_after;
  `);
}
