import type { Clock } from '../clock.js';
import type { Db } from '../db/index.js';
import type { JobCounts } from '../services/platform/index.js';
import type { MailLinks, MailTransport } from '../services/mail/index.js';

/**
 * links: where mail links point and the key that signs unsubscribe links (jobs that write mail need it);
 * mailRetentionDays: how long the outbox keeps mail (MAIL_RETENTION_DAYS)
 */
export type JobContext = {
  db: Db;
  clock: Clock;
  mail: MailTransport | null;
  links?: MailLinks;
  mailRetentionDays?: number;
};

export type Job = {
  name: string;
  /** cron expression (seconds field allowed), UTC */
  schedule: string;
  /** the schedule in words, for the Jobs page */
  every: string;
  /** what the job does, in a sentence, for the Jobs page */
  description: string;
  /** what a plain number returned by run counts, e.g. 'sessions_removed' */
  counted?: string;
  /**
   * Which of the run's counts are rows it wrote, summed into the run record's rows_touched. Default:
   * every count but 'batches'.
   */
  touches?: string[];
  /**
   * true (default): runs while a transaction holds the job's advisory lock, so one instance at a
   * time. false: for jobs that coordinate row by row themselves (FOR UPDATE SKIP LOCKED).
   */
  exclusive?: boolean;
  /**
   * When false, a run that did nothing is not recorded (the mail sender runs every 10 seconds on
   * every instance: its idle runs would bury everything else). Default true.
   */
  recordIdleRuns?: boolean;
  /** a service call; returns a count, or named counts, of what it did */
  run: (ctx: JobContext) => Promise<number | JobCounts>;
};
