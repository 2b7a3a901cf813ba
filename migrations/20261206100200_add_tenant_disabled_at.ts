import type { Knex } from 'knex';

/** An operator disables a tenant rather than deleting it: its people can no longer sign in, and nothing is lost. */
export async function up(db: Knex): Promise<void> {
  await db.raw('alter table tenants add column disabled_at timestamptz');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('alter table tenants drop column disabled_at');
}
