import type { Knex } from 'knex';

// A person's session list also shows the staff sessions viewing as them ("view as"): found by this index
// rather than by reading every session row.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create index session_view_as_idx on session ((sess->'viewAs'->>'userId')) where (sess->'viewAs') is not null
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop index session_view_as_idx');
}
