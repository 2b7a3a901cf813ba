import { randomBytes } from 'node:crypto';
import { createDb, migrate } from '../src/db/index.js';
import {
  beginSuite,
  benchDatabase,
  cleanUp,
  cleanups,
  env,
  say,
  settleWith,
  startChild,
  type BenchContext,
  type BenchSuite,
  type Child,
  summaryTable,
  waitForIdle,
} from './harness.js';
import { assetsSuite } from './suite-assets.js';
import { jobsSuite } from './suite-jobs.js';
import { partnerSuite } from './suite-partner.js';
import { ingestionSuite } from './suite-ingestion.js';
import { billingSuite } from './suite-billing.js';
import { auditSuite } from './suite-audit.js';
import { bulkSuite } from './suite-bulk.js';

/**
 * `npm run bench`: the figures of DESIGN.md section 7, suite by suite. The app and each bare
 * yardstick page run in child processes; the load comes from autocannon in this one, so load, app
 * and yardstick never share an event loop. Everything talks over 127.0.0.1.
 * `BENCH_ONLY=assets` (a comma-separated list of suite names) runs only those suites.
 */
const SUITES: BenchSuite[] = [
  assetsSuite,
  jobsSuite,
  ingestionSuite,
  partnerSuite,
  billingSuite,
  auditSuite,
  bulkSuite,
];

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

// every loop below is bounded in time; this bounds the whole run as well
const watchdog = setTimeout(() => {
  console.error('bench: still running after 90 minutes; stopping');
  void cleanUp().finally(() => process.exit(1));
}, 90 * 60_000);
watchdog.unref();
// Ctrl-C: stop the children and the database, and remove the temporary data, before leaving
const interrupted = () => void cleanUp().finally(() => process.exit(130));

try {
  await main();
  await cleanUp();
  say(`done in ${elapsed()}`);
  process.exit(0);
} catch (err) {
  console.error('bench failed:', err instanceof Error ? (err.stack ?? err.message) : err);
  await cleanUp();
  process.exit(1);
}

async function main() {
  const only = process.env.BENCH_ONLY?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only?.filter((name) => !SUITES.some((s) => s.name === name)) ?? [];
  if (unknown.length)
    throw new Error(
      `BENCH_ONLY names no suite called ${unknown.join(', ')}; the suites are ${SUITES.map((s) => s.name).join(', ')}`,
    );
  const suites = only ? SUITES.filter((s) => only.includes(s.name)) : SUITES;

  const url = await benchDatabase();
  // after the embedded server's start, whose library installs signal hooks of its own that exit at once
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.once(signal, interrupted);
  }
  const db = createDb(url, { poolMax: 4 });
  cleanups.push(() => db.destroy());
  await migrate(db);
  settleWith(db);

  const sessionSecret = randomBytes(32).toString('base64url');
  let app: Promise<Child> | null = null;
  const ctx: BenchContext = {
    db,
    url,
    app: () =>
      (app ??= startChild('app-server.ts', {
        BENCH_DB_URL: url,
        BENCH_POOL_MAX: String(env.poolMax),
        BENCH_SESSION_SECRET: sessionSecret,
      })),
  };
  for (const suite of suites) {
    say(`— ${suite.name} (${elapsed()})`);
    beginSuite(suite.name, await waitForIdle());
    await suite.run(ctx);
  }
  say('');
  say('summary (load: the 1-minute load average each suite started at; above 1 the machine was busy)');
  for (const line of summaryTable()) say(line);
}
