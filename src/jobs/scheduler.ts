import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Db } from '../db/index.js';
import { runExclusively } from '../services/job-lock.js';
import { pruneSessions } from './prune-sessions.js';
import type { Job } from './types.js';

export const JOBS: Job[] = [pruneSessions];

/** Runs one job now under its advisory lock; a second instance trying at the same time skips. */
export async function runJob(job: Job, db: Db, clock: Clock): Promise<{ ran: boolean; count?: number }> {
  const outcome = await runExclusively(db, job.name, (trx) => job.run({ db: trx, clock }));
  return outcome.ran ? { ran: true, count: outcome.result } : { ran: false };
}

export function startScheduler(deps: { db: Db; clock: Clock; logger: Logger }, jobs: Job[] = JOBS): { stop(): Promise<void> } {
  const tasks: ScheduledTask[] = jobs.map((job) =>
    cron.schedule(
      job.schedule,
      async () => {
        try {
          const outcome = await runJob(job, deps.db, deps.clock);
          deps.logger.info({ job: job.name, ...outcome }, 'job finished');
        } catch (err) {
          deps.logger.error({ job: job.name, err }, 'job failed');
        }
      },
      { timezone: 'UTC', noOverlap: true, name: job.name },
    ),
  );
  return { stop: async () => void (await Promise.all(tasks.map((t) => t.destroy()))) };
}
