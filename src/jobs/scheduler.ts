import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import {
  INSTANCE,
  type JobCounts,
  type JobOutcome,
  type JobRunner,
  type JobTrigger,
  recordJobRun,
  runExclusively,
} from '../services/platform/index.js';
import { applyDeactivations } from './apply-deactivations.js';
import { endLapsedViewsJob } from './end-lapsed-views.js';
import { expireTokens } from './expire-tokens.js';
import { failStalledImportsJob } from './fail-stalled-imports.js';
import { pruneJobRunsJob } from './prune-job-runs.js';
import { pruneIdempotencyKeysJob } from './prune-idempotency-keys.js';
import { pruneOutboxJob } from './prune-outbox.js';
import { pruneSessions } from './prune-sessions.js';
import { renewSubscriptions } from './renew-subscriptions.js';
import { renewalReminders } from './renewal-reminders.js';
import { scheduledReports } from './scheduled-reports.js';
import { sendMail } from './send-mail.js';
import { verifyAuditChainsJob } from './verify-audit-chains.js';
import type { Job, JobContext } from './types.js';

export const JOBS: Job[] = [
  renewSubscriptions,
  applyDeactivations,
  renewalReminders,
  scheduledReports,
  sendMail,
  expireTokens,
  // before pruning: a view in a session that expired is still ended in the audit log
  endLapsedViewsJob,
  pruneSessions,
  pruneJobRunsJob,
  pruneIdempotencyKeysJob,
  failStalledImportsJob,
  pruneOutboxJob,
  verifyAuditChainsJob,
];

type RunOptions = { trigger?: JobTrigger; startedBy?: string | null };
type RunResult = { ran: boolean; count?: number; counts?: JobCounts };

function countsOf(job: Job, result: number | JobCounts): JobCounts {
  return typeof result === 'number' ? { [job.counted ?? 'done']: result } : result;
}

const isIdle = (counts: JobCounts) => Object.values(counts).every((n) => !n);

/** The rows a run wrote, from the counts the job names as writes (every count but batches by default). */
function rowsTouched(job: Job, counts: JobCounts): number {
  const keys = job.touches ?? Object.keys(counts).filter((k) => k !== 'batches');
  return keys.reduce((sum, k) => sum + (counts[k] ?? 0), 0);
}

/**
 * Runs one job now and records the run. An exclusive job runs while a transaction holds its
 * advisory lock; the job itself works through the pool, so its batches commit as they go (a crash
 * keeps what was done, and a rerun carries on). When another instance holds the lock the job is
 * skipped and nothing is recorded: that instance records its own run. A failure is recorded, then
 * thrown.
 */
export async function runJob(job: Job, ctx: JobContext, opts: RunOptions = {}): Promise<RunResult> {
  const startedAt = ctx.clock.now();
  const t0 = performance.now();
  const record = (outcome: 'ok' | 'failed', counts: JobCounts, error: string | null) => {
    const ms = Math.round(performance.now() - t0);
    return recordJobRun(ctx.db, {
      job: job.name,
      trigger: opts.trigger ?? 'schedule',
      startedBy: opts.startedBy ?? null,
      instance: INSTANCE,
      startedAt,
      finishedAt: new Date(startedAt.getTime() + ms),
      durationMs: ms,
      outcome,
      counts,
      rowsTouched: outcome === 'ok' ? rowsTouched(job, counts) : null,
      error,
    });
  };
  const attempt = async (): Promise<{ result: number | JobCounts } | { error: unknown }> => {
    try {
      return { result: await job.run(ctx) };
    } catch (error) {
      return { error };
    }
  };
  const outcome =
    job.exclusive === false
      ? { ran: true as const, result: await attempt() }
      : await runExclusively(ctx.db, job.name, attempt);
  if (!outcome.ran) return { ran: false };
  if ('error' in outcome.result) {
    const err = outcome.result.error;
    await record('failed', {}, err instanceof Error ? err.message : String(err));
    throw err;
  }
  const { result } = outcome.result;
  const counts = countsOf(job, result);
  if (job.recordIdleRuns !== false || opts.trigger === 'manual' || !isIdle(counts)) await record('ok', counts, null);
  return typeof result === 'number' ? { ran: true, count: result } : { ran: true, counts };
}

/** Each job's cron expression: its own, or the override from JOB_SCHEDULE_<NAME>. */
export function scheduleOf(job: Job, overrides: Record<string, string> = {}): string {
  return overrides[job.name] ?? job.schedule;
}

/** The jobs as the Jobs page sees them, and "Run now" with the app's own context. */
export function createJobRunner(
  ctx: JobContext,
  overrides: Record<string, string> = {},
  jobs: Job[] = JOBS,
): JobRunner {
  return {
    jobs: jobs.map((j) => ({
      name: j.name,
      every: overrides[j.name] ? `Custom schedule: ${overrides[j.name]} (cron, UTC)` : j.every,
      description: j.description,
    })),
    async runNow(name, startedBy): Promise<JobOutcome | null> {
      const job = jobs.find((j) => j.name === name);
      if (!job) return null;
      try {
        const r = await runJob(job, ctx, { trigger: 'manual', startedBy });
        if (!r.ran) return { outcome: 'skipped' };
        return { outcome: 'ok', counts: r.counts ?? countsOf(job, r.count ?? 0) };
      } catch (err) {
        return { outcome: 'failed', error: err instanceof Error ? err.message : String(err) };
      }
    },
  };
}

export function startScheduler(
  ctx: JobContext & { logger: Logger },
  opts: { jobs?: Job[]; schedules?: Record<string, string> } = {},
): { stop(): Promise<void> } {
  const jobs = opts.jobs ?? JOBS;
  const overrides = opts.schedules ?? {};
  for (const name of Object.keys(overrides)) {
    if (!jobs.some((j) => j.name === name)) ctx.logger.warn({ job: name }, 'a JOB_SCHEDULE_ override names no job');
  }
  const running = new Set<Promise<void>>();
  const tasks: ScheduledTask[] = jobs.map((job) =>
    cron.schedule(
      scheduleOf(job, overrides),
      async () => {
        const run = (async () => {
          try {
            const outcome = await runJob(job, ctx);
            if (outcome.count || (outcome.counts && !isIdle(outcome.counts)))
              ctx.logger.info({ job: job.name, ...outcome }, 'job finished');
          } catch (err) {
            ctx.logger.error({ job: job.name, err }, 'job failed');
          }
        })();
        running.add(run);
        await run;
        running.delete(run);
      },
      { timezone: 'UTC', noOverlap: true, name: job.name },
    ),
  );
  return {
    // no job starts after stop(); the ones running finish (and record their run) before it resolves
    stop: async () => {
      await Promise.all(tasks.map((t) => t.destroy()));
      await Promise.all(running);
    },
  };
}
