import type { Knex } from 'knex';

/**
 * API keys get scopes: what each key may do (issue 17). Keys made before could do everything, and
 * the systems using them must go on working, so they get every scope (the column's default, kept
 * for rows written outside the app); the app states every new key's scopes itself.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table api_keys
      add column scopes text[] not null default '{locations:write,usage:write,visits:write,invoices:read}',
      add constraint api_keys_scopes_check check (
        cardinality(scopes) > 0 and scopes <@ '{locations:write,usage:write,visits:write,invoices:read}'::text[]
      );
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('alter table api_keys drop column scopes');
}
