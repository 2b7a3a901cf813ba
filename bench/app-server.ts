import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createApp } from '../src/app.js';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/index.js';
import { createMailPump } from '../src/services/mail/outbox.js';

/**
 * The real app for the benchmark, in a process of its own: production settings, a silent logger,
 * no jobs, listening on 127.0.0.1 only. Started by bench/run.ts, which it tells its port over IPC.
 */
const config = loadConfig({
  NODE_ENV: 'production',
  LOG_LEVEL: 'silent',
  JOBS: 'off',
  SEED: 'off',
  HOST: '127.0.0.1',
  PORT: '0',
  BASE_URL: 'http://127.0.0.1',
  DATABASE_URL: process.env.BENCH_DB_URL,
  DATABASE_POOL_MAX: process.env.BENCH_POOL_MAX ?? '10',
  SESSION_SECRET: process.env.BENCH_SESSION_SECRET,
  // the app's default (on) unless BENCH_PREPARED_STATEMENTS=0
  DATABASE_PREPARED_STATEMENTS: process.env.BENCH_PREPARED_STATEMENTS === '0' ? 'off' : 'on',
});
const db = createDb(config.databaseUrl!, {
  poolMax: config.databasePoolMax,
  preparedStatements: config.databasePreparedStatements,
});
const logger = pino({ level: 'silent' });
const mailPump = createMailPump(
  db,
  null,
  () => systemClock.now(),
  () => {},
);
const app = createApp({ db, config, clock: systemClock, logger, mail: null, mailPump });
const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, port: (server.address() as AddressInfo).port });
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => void db.destroy().finally(() => process.exit(0)));
};
process.on('SIGTERM', stop);
// the parent went away without stopping us: do not linger
process.on('disconnect', stop);
