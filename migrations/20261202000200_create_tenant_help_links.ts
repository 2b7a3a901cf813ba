import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/** The links a provider shows its customers on the Help page; each is optional (null: not shown). */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table tenant_help_links (
      tenant_id uuid primary key references tenants (id) on delete cascade,
      documentation_url varchar(500),
      status_page_url varchar(500),
      chat_url varchar(500),
      tracking_url varchar(500),
      updated_at timestamptz not null default now()
    );
  `);
  await enableTenantIsolation(db, 'tenant_help_links');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table tenant_help_links');
}
