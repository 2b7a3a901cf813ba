import type { Knex } from 'knex';

// connect-pg-simple's own table, created here so the app never issues DDL at runtime.
// user_id is derived from the session so that "sign out everywhere" is one indexed DELETE.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table session (
      sid varchar not null collate "default" primary key,
      sess json not null,
      expire timestamp(6) not null,
      user_id uuid generated always as ((sess->>'userId')::uuid) stored
    );
    create index session_expire_idx on session (expire);
    create index session_user_idx on session (user_id) where user_id is not null;
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table session');
}
