import type { Knex } from 'knex';

/**
 * A running import's sign of life. Its rows go in inside one transaction on the instance that
 * started it; if that instance dies the transaction goes with it, but the import row said
 * "running" for ever. The writer now stamps heartbeat_at (and which instance it is) while it
 * works, and a job marks an import whose heartbeat stopped as failed, with the reason.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table data_imports add column heartbeat_at timestamptz, add column running_on varchar(200);
    create index data_imports_running_idx on data_imports (tenant_id, heartbeat_at) where status = 'running';
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    drop index data_imports_running_idx;
    alter table data_imports drop column heartbeat_at, drop column running_on;
  `);
}
