import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { runExclusively } from '../services/job-lock.js';
import { pruneSessions } from './prune-sessions.js';
import { sendMail } from './send-mail.js';
import type { Job, JobContext } from './types.js';

export const JOBS: Job[] = [pruneSessions, sendMail];

/** Runs one job now; an exclusive job that another instance is running is skipped. */
export async function runJob(job: Job, ctx: JobContext): Promise<{ ran: boolean; count?: number }> {
  if (job.exclusive === false) return { ran: true, count: await job.run(ctx) };
  const outcome = await runExclusively(ctx.db, job.name, (trx) => job.run({ ...ctx, db: trx }));
  return outcome.ran ? { ran: true, count: outcome.result } : { ran: false };
}

export function startScheduler(ctx: JobContext & { logger: Logger }, jobs: Job[] = JOBS): { stop(): Promise<void> } {
  const tasks: ScheduledTask[] = jobs.map((job) =>
    cron.schedule(
      job.schedule,
      async () => {
        try {
          const outcome = await runJob(job, ctx);
          if (outcome.count) ctx.logger.info({ job: job.name, ...outcome }, 'job finished');
        } catch (err) {
          ctx.logger.error({ job: job.name, err }, 'job failed');
        }
      },
      { timezone: 'UTC', noOverlap: true, name: job.name },
    ),
  );
  return { stop: async () => void (await Promise.all(tasks.map((t) => t.destroy()))) };
}
