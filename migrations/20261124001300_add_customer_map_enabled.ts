import type { Knex } from 'knex';

/** The devices map of a customer's groups: a feature the provider switches on per customer (off by default). */
export async function up(db: Knex): Promise<void> {
  await db.raw('alter table customers add column map_enabled boolean not null default false');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('alter table customers drop column map_enabled');
}
