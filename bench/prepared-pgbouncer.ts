import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPgBouncer } from '../deploy/scale-test/stack.js';
import { createDb, ensureDatabase, migrate, usesPreparedStatements, type Db } from '../src/db/index.js';
import { freePort, startEmbeddedPostgres } from '../src/db/embedded.js';
import { demoId, seedDemo } from '../src/demo/data.js';
import type { Actor } from '../src/services/access/index.js';
import { listAssets } from '../src/services/assets/list.js';
import { assetFilterFrom } from '../src/services/assets/list-rules.js';
import { loadActor } from '../src/services/people/index.js';

/**
 * `npx tsx bench/prepared-pgbouncer.ts`: DATABASE_PREPARED_STATEMENTS off and on, straight to PostgreSQL
 * and through the installed PgBouncer in transaction pooling; prints whether each path works and how many
 * asset list pages a second it read (a rough figure: 4 connections, the demo's data, with the load average).
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'portico-prepared-'));
const server = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), fast: true });
const bouncerPort = await freePort();
let bouncer: ReturnType<typeof startPgBouncer> | null = null;
try {
  await ensureDatabase(server.url(), 'portico');
  const setupDb = createDb(server.url('portico'), { poolMax: 2 });
  await migrate(setupDb);
  const now = new Date();
  await seedDemo(setupDb, { now });
  const owner = (await loadActor(
    setupDb,
    demoId('user:owner@northwind.test'),
    demoId('membership:owner@northwind.test'),
  )) as Actor;
  await setupDb.destroy();

  const primaryPort = Number(new URL(server.url()).port);
  bouncer = startPgBouncer({
    dir: path.join(dir, 'bouncer'),
    logDir: dir,
    port: bouncerPort,
    primaryPort,
    lifetimeSeconds: 600,
    // fewer server connections than clients: each transaction may run on another client's server connection
    poolSize: 2,
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const version = execFileSync('/usr/sbin/pgbouncer', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  console.log(
    `${version}, transaction pooling, 2 server connections for 4 clients; load average ${os.loadavg()[0]!.toFixed(2)}`,
  );

  const filter = assetFilterFrom({}, now.toISOString().slice(0, 10));
  const paths = [
    ['PostgreSQL', server.url('portico')],
    ['PgBouncer', `postgres://portico:portico@127.0.0.1:${bouncerPort}/portico`],
  ] as const;
  for (const [where, url] of paths)
    for (const preparedStatements of [false, true, false]) {
      const db: Db = createDb(url, { poolMax: 4, preparedStatements });
      const label = `${where}, prepared statements ${preparedStatements ? 'on' : 'off'}`;
      try {
        const until = Date.now() + 3000;
        let pages = 0;
        // four readers at once, so PgBouncer hands each transaction whichever server connection is free
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            while (Date.now() < until) {
              await listAssets(db, owner, filter);
              pages += 1;
            }
          }),
        );
        const kept = preparedStatements
          ? usesPreparedStatements(db)
            ? ', named statements kept'
            : ', named statements lost: went back to text'
          : '';
        console.log(`${label}: works${kept}, ${Math.round(pages / 3)} asset list pages/s`);
      } catch (err) {
        console.log(`${label}: FAILS: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        await db.destroy();
      }
    }
} finally {
  await bouncer?.stop('SIGINT', 3000);
  await server.stop();
}
