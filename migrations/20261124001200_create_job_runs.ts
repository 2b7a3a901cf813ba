import type { Knex } from 'knex';

/**
 * One row per run of a scheduled job: when, how long, what it did or why it failed. Jobs work
 * across tenants, so the runs belong to the deployment, not to a tenant. A run skipped because
 * another instance held the job's lock is not recorded: that other instance records its own run.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table job_runs (
      id bigint generated always as identity primary key,
      job varchar(60) not null,
      trigger varchar(10) not null check (trigger in ('schedule', 'manual')),
      started_by varchar(300),
      instance varchar(200) not null,
      started_at timestamptz not null,
      finished_at timestamptz not null,
      outcome varchar(10) not null check (outcome in ('ok', 'failed', 'skipped')),
      counts jsonb not null default '{}',
      error text
    );
    create index job_runs_job_idx on job_runs (job, started_at desc);
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table job_runs');
}
