import os from 'node:os';
import type { Db } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import { authorize, type OperatorActor } from '../access/index.js';

/**
 * The record of scheduled jobs' runs, and what the operator's Jobs page needs: each job with its
 * recent runs, and "Run now". Jobs run across tenants (renewals, reminders, mail), so their runs
 * belong to the deployment and only its operator sees them: their errors may name any tenant's data.
 * (A tenant admin sees what the jobs did for their own tenant instead: assets/job-effects.ts.)
 */

export type JobCounts = Record<string, number>;

/** This process, as job runs and running imports name it when several instances share the database. */
export const INSTANCE = `${os.hostname()}:${process.pid}`;
export type JobTrigger = 'schedule' | 'manual';
export type JobOutcome =
  { outcome: 'ok'; counts: JobCounts } | { outcome: 'skipped' } | { outcome: 'failed'; error: string };

/** A job as the Jobs page shows it. */
export type JobInfo = { name: string; every: string; description: string };

/** The app's jobs, given to the routes by whoever built the app (they must not import jobs). */
export type JobRunner = {
  jobs: JobInfo[];
  /** Runs a job now, under its lock, and records the run; null when there is no such job. */
  runNow(name: string, startedBy: string): Promise<JobOutcome | null>;
};

export type JobRunRecord = {
  job: string;
  trigger: JobTrigger;
  startedBy: string | null;
  instance: string;
  startedAt: Date;
  finishedAt: Date;
  /** how long the run took, on the process's monotonic clock */
  durationMs: number;
  outcome: 'ok' | 'failed' | 'skipped';
  counts: JobCounts;
  /** rows the run wrote; null for a failed run (what its committed batches wrote is not known) */
  rowsTouched: number | null;
  error: string | null;
};

export async function recordJobRun(db: Db, run: JobRunRecord): Promise<void> {
  await db('job_runs').insert({
    job: run.job,
    trigger: run.trigger,
    started_by: run.startedBy,
    instance: run.instance.slice(0, 200),
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    duration_ms: run.durationMs,
    outcome: run.outcome,
    counts: JSON.stringify(run.counts),
    rows_touched: run.rowsTouched,
    error: run.error?.slice(0, 2000) ?? null,
  });
}

export type JobRunView = {
  startedAt: Date;
  seconds: number;
  trigger: JobTrigger;
  startedBy: string | null;
  instance: string;
  outcome: 'ok' | 'failed' | 'skipped';
  /** "12 renewed, 3 rolled over" */
  countsText: string;
  error: string | null;
};

export type JobWithRuns = JobInfo & { runs: JobRunView[] };

export const RECENT_RUNS = 5;

/** "12 renewed, 3 rolled over, 200 batches": jsonb keeps no key order, so alphabetical, batches last */
export function countsText(counts: JobCounts): string {
  const rank = (k: string) => `${k === 'batches' ? 1 : 0}${k}`;
  const parts = Object.entries(counts)
    .sort(([a], [b]) => (rank(a) < rank(b) ? -1 : 1))
    .map(([k, v]) => `${v.toLocaleString('en-GB')} ${k.replaceAll('_', ' ')}`);
  return parts.length ? parts.join(', ') : '';
}

type RunRow = {
  job: string;
  trigger: JobTrigger;
  started_by: string | null;
  instance: string;
  started_at: Date;
  finished_at: Date;
  outcome: 'ok' | 'failed' | 'skipped';
  counts: JobCounts;
  error: string | null;
};

/** Every job with its latest runs, newest first: one index range per job. */
export async function listJobs(db: Db, operator: OperatorActor, runner: JobRunner): Promise<JobWithRuns[]> {
  authorize(operator, 'operator.jobs');
  const names = runner.jobs.map((j) => j.name);
  // job runs belong to no tenant: read as the deployment, like the jobs that write them
  const { rows } = await db.raw<{ rows: RunRow[] }>(
    `select r.* from unnest(?::text[]) as j(name)
     cross join lateral (
       select job, trigger, started_by, instance, started_at, finished_at, outcome, counts, error
       from job_runs where job = j.name order by started_at desc limit ?
     ) r`,
    [names, RECENT_RUNS],
  );
  return runner.jobs.map((job) => ({
    ...job,
    runs: rows
      .filter((r) => r.job === job.name)
      .sort((a, b) => b.started_at.getTime() - a.started_at.getTime())
      .map((r) => ({
        startedAt: r.started_at,
        seconds: (r.finished_at.getTime() - r.started_at.getTime()) / 1000,
        trigger: r.trigger,
        startedBy: r.started_by,
        instance: r.instance,
        outcome: r.outcome,
        countsText: countsText(r.counts),
        error: r.error,
      })),
  }));
}

/** "Run now" on the Jobs page: the same lock and record as the schedule, started by a person. */
export async function runJobNow(operator: OperatorActor, runner: JobRunner, name: string): Promise<JobOutcome> {
  authorize(operator, 'operator.jobs');
  const outcome = await runner.runNow(name, `${operator.name} <${operator.email}>`);
  if (!outcome) throw new NotFoundError();
  return outcome;
}

/** Runs older than `keepDays` go; the page shows only the latest few anyway. */
export async function pruneJobRuns(db: Db, now: Date, keepDays = 90): Promise<number> {
  return db('job_runs')
    .where('started_at', '<', new Date(now.getTime() - keepDays * 86_400_000))
    .del();
}
