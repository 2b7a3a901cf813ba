import type { Knex } from 'knex';
import { enableTenantIsolation } from '../src/db/tenant.js';

/**
 * Staff CSV imports: the file as uploaded (checked before anything is written), the errors found
 * in it, and while it is written the progress that the page polls. `written` is updated from a
 * connection of its own while the rows go in inside one transaction, so a failed import leaves
 * nothing behind and the progress is still visible.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table data_imports (
      tenant_id uuid not null references tenants (id),
      id uuid not null default gen_random_uuid(),
      kind varchar(30) not null,
      file_name varchar(200) not null,
      content text not null,
      total integer not null,
      written integer not null default 0,
      status varchar(12) not null check (status in ('invalid', 'previewed', 'running', 'done', 'failed')),
      errors jsonb not null default '[]',
      error_count integer not null default 0,
      message text,
      created_by uuid references users (id) on delete set null,
      created_by_label varchar(300) not null,
      created_at timestamptz not null default now(),
      finished_at timestamptz,
      primary key (tenant_id, id)
    );
    create index data_imports_recent_idx on data_imports (tenant_id, created_at desc);
  `);
  await enableTenantIsolation(db, 'data_imports');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table data_imports');
}
