import type { Clock } from '../clock.js';
import type { Db } from '../db/index.js';
import type { MailTransport } from '../services/mail-transport.js';

export type JobContext = { db: Db; clock: Clock; mail: MailTransport | null };

export type Job = {
  name: string;
  /** cron expression (seconds field allowed), UTC */
  schedule: string;
  /**
   * true (default): runs inside a transaction holding the job's advisory lock, so one instance
   * at a time. false: for jobs that coordinate row by row themselves (FOR UPDATE SKIP LOCKED).
   */
  exclusive?: boolean;
  /** a service call; returns a count of what it did */
  run: (ctx: JobContext) => Promise<number>;
};
