import type { Knex } from 'knex';

// Counters for login and token endpoints live in PostgreSQL so every app instance shares them.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table rate_limits (
      key varchar(300) primary key,
      failures integer not null default 0,
      window_started_at timestamptz not null default now(),
      locked_until timestamptz
    );
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table rate_limits');
}
