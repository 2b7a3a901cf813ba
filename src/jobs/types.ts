import type { Clock } from '../clock.js';
import type { Db } from '../db/index.js';

export type JobContext = { db: Db; clock: Clock };

export type Job = {
  name: string;
  /** cron expression, UTC */
  schedule: string;
  /** a service call; runs inside a transaction holding the job's advisory lock; returns a count */
  run: (ctx: JobContext) => Promise<number>;
};
