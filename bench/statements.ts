import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { createDb, migrate } from '../src/db/index.js';
import { BULK_FREIGHT } from '../src/demo/bulk.js';
import { DEMO_PASSWORD } from '../src/demo/data.js';
import type { BareCase } from './bare-server.js';
import { benchDatabase, cleanUp, cleanups, env, say, signIn, startChild } from './harness.js';
import { listCases } from './list-cases.js';
import { ensureAssets } from './suite-assets.js';

/**
 * `npx tsx bench/statements.ts`: where an asset list answer's time goes, the app's beside the bare page's.
 * For each case (`BENCH_CASES=page1,deep,search,active-deep`, page1 unless told) it loads the page for
 * `BENCH_SECONDS` and prints, per answer: each statement PostgreSQL ran (pg_stat_statements, with planning
 * tracked), its planning and running time (wall time, so inflated when the two cores are shared), and the
 * CPU spent by the app or bare page, by the load generator, and by the rest of the machine (PostgreSQL,
 * on an idle machine; from /proc/stat, so a backend that exits during the run still counts). Uses the
 * same database settings as `npm run bench` (BENCH_KEEP, BENCH_DATA_DIR, BENCH_ASSETS, BENCH_CONNECTIONS).
 */
const url = await benchDatabase([
  'shared_preload_libraries=pg_stat_statements',
  'pg_stat_statements.track_planning=on',
]);
const db = createDb(url, { poolMax: 4 });
cleanups.push(() => db.destroy());
try {
  await migrate(db);
  await db.raw('create extension if not exists pg_stat_statements');
  await ensureAssets(db);
  const app = await startChild('app-server.ts', {
    BENCH_DB_URL: url,
    BENCH_POOL_MAX: String(env.poolMax),
    BENCH_SESSION_SECRET: randomBytes(32).toString('base64url'),
  });
  const cookie = await signIn(app.base, BULK_FREIGHT.adminEmail, DEMO_PASSWORD);
  const cases = await listCases(db, BULK_FREIGHT.adminEmail);
  const bare = await startChild(
    'bare-server.ts',
    {},
    {
      url,
      poolMax: env.poolMax,
      cases: Object.fromEntries(cases.list.map((c) => [c.key, c.bare] as [string, BareCase])),
    },
  );
  const wanted = (process.env.BENCH_CASES ?? 'page1').split(',');
  for (const c of cases.list.filter((x) => wanted.includes(x.key))) {
    const runs = [
      { who: 'app', pid: app.proc.pid!, url: `${app.base}${c.appPath}`, headers: { cookie, 'hx-request': 'true' } },
      { who: 'bare', pid: bare.proc.pid!, url: `${bare.base}/bare/${c.key}`, headers: {} },
    ];
    for (const run of runs) {
      // warm: plans, caches, the pool's connections
      await autocannon({ url: run.url, headers: run.headers, connections: env.connections, duration: 5 });
      await db.raw('select pg_stat_statements_reset()');
      const before = cpuTicks(run.pid);
      const r = await autocannon({
        url: run.url,
        headers: run.headers,
        connections: env.connections,
        duration: env.seconds,
      });
      const after = cpuTicks(run.pid);
      const answers = r['2xx'];
      const perAnswer = (ticks: number) => ((ticks * 10) / answers).toFixed(2);
      say(
        `${c.title}, ${run.who}: ${Math.round(answers / r.duration)} req/s, p99 ${r.latency.p99} ms;` +
          ` CPU ms per answer: ${run.who} ${perAnswer(after.server - before.server)},` +
          ` the rest of the machine (PostgreSQL) ${perAnswer(after.rest - before.rest)},` +
          ` load generator ${perAnswer(after.self - before.self)}`,
      );
      const { rows } = await db.raw<{ rows: { calls: number; plan: number; exec: number; query: string }[] }>(
        `select calls, total_plan_time as plan, total_exec_time as exec, regexp_replace(query, '\\s+', ' ', 'g') as query
         from pg_stat_statements
         where dbid = (select oid from pg_database where datname = current_database())
           and query not like '%pg_stat_statements%'
         order by total_plan_time + total_exec_time desc limit 12`,
      );
      let plan = 0;
      let exec = 0;
      for (const s of rows) {
        plan += s.plan;
        exec += s.exec;
        say(
          `  ${(s.calls / answers).toFixed(2)} per answer, planning ${(s.plan / s.calls).toFixed(3)} ms,` +
            ` running ${(s.exec / s.calls).toFixed(3)} ms: ${s.query.slice(0, 100)}`,
        );
      }
      say(`  per answer: planning ${(plan / answers).toFixed(2)} ms, running ${(exec / answers).toFixed(2)} ms`);
    }
  }
} finally {
  await cleanUp();
}

/**
 * CPU time in 10 ms ticks: the server process's, this process's, and the rest of the machine's (all busy
 * time in /proc/stat less those two).
 */
function cpuTicks(serverPid: number): { server: number; rest: number; self: number } {
  const ticks = (pid: number) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(fields[11]) + Number(fields[12]); // utime + stime
    } catch {
      return 0; // gone meanwhile
    }
  };
  // cpu  user nice system idle iowait irq softirq steal …: busy is all but idle and iowait
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1, 9).map(Number);
  const busy = cpu.reduce((a, b) => a + b, 0) - cpu[3]! - cpu[4]!;
  const server = ticks(serverPid);
  const self = ticks(process.pid);
  return { server, self, rest: busy - server - self };
}
