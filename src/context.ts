import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db } from './db/index.js';
import type { ReadReplica } from './db/replica.js';
import type { JobRunner } from './services/platform/index.js';
import type { MailPump, MailTransport } from './services/mail/index.js';

/** Everything a request or a job needs from the outside world, built once by main (or a test). */
export type AppContext = {
  db: Db;
  /** DATABASE_REPLICA_URL's streaming replica, for heavy reads that may lag a little (src/web/replica.ts) */
  replica?: ReadReplica;
  config: Config;
  clock: Clock;
  logger: Logger;
  mail: MailTransport | null;
  /** delivers queued mail; the outbox wakes it once the transaction that queued mail commits */
  mailPump: MailPump;
  /** the scheduled jobs, for the Jobs page and "Run now"; createApp makes it from the job list when not given */
  jobs?: JobRunner;
  /** true once the process was told to stop: /readyz answers 503 while the requests in flight finish */
  draining?: () => boolean;
};
