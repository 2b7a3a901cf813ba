import type { Knex } from 'knex';

/**
 * Deployment operators: logins that belong to no tenant (they hold no membership). They create and
 * disable tenants and watch the deployment's jobs and mail. The table is out of reach of the
 * row-level-security role, so no tenant's transaction can read it or make anyone an operator.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table operators (
      user_id uuid primary key references users (id) on delete cascade,
      created_at timestamptz not null default now()
    );
    revoke all on operators from portico_app;
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table operators');
}
