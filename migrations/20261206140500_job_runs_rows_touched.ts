import type { Knex } from 'knex';

/**
 * What each job run did in figures an operator can compare across jobs: how many rows it wrote
 * (null when it failed: its committed batches are not counted) and how long it took, measured on
 * a monotonic clock in the process that ran it.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('alter table job_runs add column rows_touched bigint, add column duration_ms integer');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('alter table job_runs drop column rows_touched, drop column duration_ms');
}
