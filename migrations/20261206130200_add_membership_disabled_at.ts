import type { Knex } from 'knex';

/**
 * A membership can be disabled on its own: a company admin who disables a person whose login also
 * serves the provider, another customer or another provider ends that person's access to their own
 * customer only, and leaves the login (its status, name and password) to those it also belongs to.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('alter table memberships add column disabled_at timestamptz');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('alter table memberships drop column disabled_at');
}
