import type { Knex } from 'knex';

// Requests in a tenant's context run as portico_app, which row-level security applies to;
// the connecting (owning) role keeps full access for migrations, sign-in and cross-tenant jobs.
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    do $$ begin
      if not exists (select 1 from pg_roles where rolname = 'portico_app') then
        create role portico_app nologin;
      end if;
    end $$;
    grant portico_app to current_user;
    grant usage on schema public to portico_app;
    alter default privileges in schema public grant select, insert, update, delete on tables to portico_app;
    alter default privileges in schema public grant usage, select on sequences to portico_app;
  `);
}

export async function down(): Promise<void> {}
