import type { Knex } from 'knex';

// A person's language: the one they chose in settings (null: follow the browser), and the browser's own
// first language Portico speaks, noted at each sign-in, so that mail reaches them in their language
// even when they never chose one.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table users
      add column locale text check (locale in ('en', 'de')),
      add column browser_locale text check (browser_locale in ('en', 'de'))
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('alter table users drop column locale, drop column browser_locale');
}
