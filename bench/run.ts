import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startEmbeddedPostgres, type EmbeddedServer } from '../src/db/embedded.js';
import { createDb, ensureDatabase, migrate, type Db } from '../src/db/index.js';
import { BULK_FREIGHT, bulkAssetCount, seedBulkAssets } from '../src/services/demo-bulk.js';
import { DEMO_PASSWORD } from '../src/services/demo-data.js';
import type { BareCase } from './bare-server.js';
import { BILLING_ADMIN, benchInvoice, ensureUsage, summaryCases } from './billing.js';
import { benchJobs } from './jobs.js';
import { listCases } from './list-cases.js';

/**
 * `npm run bench`: the figures of DESIGN.md section 7 for the asset list, its CSV export and sign-in,
 * and for the call summaries and invoices (BENCH_ONLY=assets or BENCH_ONLY=billing runs one half).
 * The app and the bare yardstick page each run in a child process; the load comes from autocannon in
 * this one, so load, app and yardstick never share an event loop. Everything talks over 127.0.0.1.
 */
const env = {
  assets: whole('BENCH_ASSETS', 1_000_000),
  usage: whole('BENCH_USAGE', 10_000_000),
  only: only(process.env.BENCH_ONLY),
  seconds: whole('BENCH_SECONDS', 10),
  runs: whole('BENCH_RUNS', 3),
  connections: whole('BENCH_CONNECTIONS', 20),
  poolMax: whole('BENCH_POOL_MAX', 10),
  databaseUrl: process.env.BENCH_DATABASE_URL,
  keep: process.env.BENCH_KEEP === '1',
  dataDir: process.env.BENCH_DATA_DIR,
};
const benchDir = path.dirname(fileURLToPath(import.meta.url));
const cleanups: (() => Promise<void>)[] = [];
/** the bench's own connection, for settle() */
let settleDb: Db | null = null;
const say = (line: string) => console.log(line);
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
  console.error('bench failed:', err instanceof Error ? err.stack ?? err.message : err);
  await cleanUp();
  process.exit(1);
}

async function main() {
  const url = await benchDatabase();
  // after the embedded server's start, whose library installs signal hooks of its own that exit at once
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.once(signal, interrupted);
  }
  const db = createDb(url, { poolMax: 4 });
  cleanups.push(() => db.destroy());
  await migrate(db);
  if (env.only !== 'billing') await ensureAssets(db);
  if (env.only !== 'assets') await ensureUsage(db, env.usage, say);
  settleDb = db;

  const sessionSecret = randomBytes(32).toString('base64url');
  const app = await startChild('app-server.ts', { BENCH_DB_URL: url, BENCH_POOL_MAX: String(env.poolMax), BENCH_SESSION_SECRET: sessionSecret });
  if (env.only !== 'assets') await benchBilling(app, db);
  if (env.only !== 'billing') await benchAssets(app, db, url);
}

async function benchAssets(app: Child, db: Db, url: string) {
  const cookie = await signIn(app.base, BULK_FREIGHT.adminEmail, DEMO_PASSWORD);
  const cases = await listCases(db, BULK_FREIGHT.adminEmail);
  const bare = await startChild('bare-server.ts', {}, {
    url,
    poolMax: env.poolMax,
    cases: Object.fromEntries(cases.list.map((c) => [c.key, c.bare] as [string, BareCase])),
  });
  say(`app pid ${app.proc.pid} at ${app.base}, bare page pid ${bare.proc.pid} at ${bare.base}; ${env.connections} connections, ${env.seconds} s a run, median of ${env.runs} runs, alternating order`);

  const fragment = { cookie, 'hx-request': 'true' };
  for (const c of cases.list) {
    await sameRows(`${app.base}${c.appPath}`, fragment, `${bare.base}/bare/${c.key}`, c.title);
    // warm both (plans, caches, JIT) before anything is measured
    await measure(`${app.base}${c.appPath}`, fragment, 2);
    await measure(`${bare.base}/bare/${c.key}`, {}, 2);
    const appRuns: Figures[] = [];
    const bareRuns: Figures[] = [];
    for (let run = 0; run < env.runs; run++) {
      const order = run % 2 === 0 ? ['app', 'bare'] : ['bare', 'app'];
      for (const who of order) {
        if (who === 'app') appRuns.push(await measure(`${app.base}${c.appPath}`, fragment, env.seconds));
        else bareRuns.push(await measure(`${bare.base}/bare/${c.key}`, {}, env.seconds));
      }
    }
    const a = median(appRuns);
    const b = median(bareRuns);
    say(`${c.title}: app ${fmt(a)}, bare ${fmt(b)}, ratio ${ratio(a, b)}`);
  }

  await benchCsv(app, cookie, cases.csv);
  await benchLoginBurst(app, fragment, cases.list[0]!.appPath);
  // the scheduled jobs over every subscription, with the servers idle
  for (const line of await benchJobs(db)) say(line);
}

/** The summary fragments a tenant admin loads, then invoice generation, with the servers idle. */
async function benchBilling(app: Child, db: Db) {
  const cookie = await signIn(app.base, BILLING_ADMIN, DEMO_PASSWORD);
  const fragment = { cookie, 'hx-request': 'true' };
  say(`call summaries: app pid ${app.proc.pid}; ${env.connections} connections, ${env.seconds} s a run, median of ${env.runs} runs`);
  for (const c of summaryCases()) {
    const res = await fetch(`${app.base}${c.appPath}`, { headers: fragment, signal: AbortSignal.timeout(30_000) });
    const body = await res.text();
    if (res.status !== 200 || !body.includes('id="summary-table"')) throw new Error(`${c.appPath} answered ${res.status} without the summary table`);
    await measure(`${app.base}${c.appPath}`, fragment, 2);
    const runs: Figures[] = [];
    for (let run = 0; run < env.runs; run++) runs.push(await measure(`${app.base}${c.appPath}`, fragment, env.seconds));
    say(`${c.title}: ${fmt(median(runs))}`);
  }
  for (const line of await benchInvoice(db, 5)) say(line);
}

type Figures = { rps: number; p50: number; p99: number; failed: number };
type Child = { proc: ChildProcess; base: string };

function fmt(f: Figures): string {
  const failed = f.failed ? `, ${f.failed} failed or timed out` : '';
  if (!f.rps) return `no answer within ${env.seconds} s${failed}`;
  return `${Math.round(f.rps)} req/s (p50 ${f.p50} ms, p99 ${f.p99} ms${failed})`;
}

function ratio(a: Figures, b: Figures): string {
  return a.rps && b.rps ? `${Math.round((a.rps / b.rps) * 100)} %` : 'n/a';
}

function median(runs: Figures[]): Figures {
  const mid = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return { rps: mid(runs.map((r) => r.rps)), p50: mid(runs.map((r) => r.p50)), p99: mid(runs.map((r) => r.p99)), failed: runs.reduce((n, r) => n + r.failed, 0) };
}

/** One bounded autocannon run. Failed answers are counted and printed, never mixed into the figures. */
async function measure(url: string, headers: Record<string, string>, seconds: number): Promise<Figures> {
  const r = await autocannon({ url, headers, connections: env.connections, duration: seconds, timeout: 10 });
  await settle();
  return { rps: r['2xx'] / r.duration, p50: r.latency.p50, p99: r.latency.p99, failed: r.non2xx + r.errors };
}

/**
 * Requests the load generator gave up on may still be running in PostgreSQL: wait for them (30 s at
 * most, then cancel them) so they do not weigh on the next run.
 */
async function settle(): Promise<void> {
  if (!settleDb) return;
  // only the app's and the bare page's connections (BENCH_DATABASE_URL may be shared)
  const others = "datname = current_database() and pid <> pg_backend_pid() and state = 'active' and application_name in ('portico', 'portico-bench-bare')";
  let cancelled = 0;
  for (let waited = 0; waited < 60_000; waited += 250) {
    const { rows } = await settleDb.raw<{ rows: { n: number }[] }>(`select count(*)::int as n from pg_stat_activity where ${others}`);
    if (!rows[0]!.n) break;
    // past 30 s, cancel what runs (queued requests then start and are cancelled in turn)
    if (waited >= 30_000) cancelled += (await settleDb.raw<{ rows: unknown[] }>(`select pg_cancel_backend(pid) from pg_stat_activity where ${others}`)).rows.length;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (cancelled) say(`  (cancelled ${cancelled} queries still running 30 s after their run)`);
}

/** The app's fragment and the bare page must show the same rows, or the comparison means nothing. */
async function sameRows(appUrl: string, headers: Record<string, string>, bareUrl: string, title: string): Promise<void> {
  const ids = async (u: string, h: Record<string, string>) => {
    const res = await fetch(u, { headers: h, signal: AbortSignal.timeout(30_000) });
    if (res.status !== 200) throw new Error(`${u} answered ${res.status}`);
    return [...new Set((await res.text()).match(/\b35\d{13}\b/g) ?? [])];
  };
  const [a, b] = [await ids(appUrl, headers), await ids(bareUrl, {})];
  if (a.length === 0 || a.join() !== b.join()) throw new Error(`${title}: the app shows ${a.length} assets (${a.slice(0, 2).join(', ')}…), the bare page ${b.length} (${b.slice(0, 2).join(', ')}…)`);
}

/** The embedded PostgreSQL (fast mode: no fsync, as in the tests; the figures are about the app), or BENCH_DATABASE_URL. */
async function benchDatabase(): Promise<string> {
  if (env.databaseUrl) return env.databaseUrl;
  const dir = env.dataDir ? path.resolve(env.dataDir) : env.keep ? path.resolve('.data/bench') : await mkdtemp(path.join(os.tmpdir(), 'portico-bench-'));
  const server: EmbeddedServer = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres'), fast: true });
  cleanups.push(async () => {
    await server.stop();
    if (!env.keep && !env.dataDir) await rm(dir, { recursive: true, force: true });
  });
  await ensureDatabase(server.url(), 'portico_bench');
  say(`PostgreSQL (embedded, fast mode) in ${dir}${env.keep || env.dataDir ? ', kept after the run' : ''}`);
  return server.url('portico_bench');
}

/** The generator's assets, unless a kept database has them already. */
async function ensureAssets(db: Db): Promise<void> {
  const have = await bulkAssetCount(db);
  if (have >= env.assets) {
    say(`assets: reusing the ${have.toLocaleString('en-GB')} bulk assets already there`);
    return;
  }
  const result = await seedBulkAssets(db, {
    assets: env.assets - have,
    onProgress: (p) => say(`assets: ${p.done.toLocaleString('en-GB')} / ${p.total.toLocaleString('en-GB')} (${p.seconds.toFixed(1)} s)`),
  });
  say(`generated ${result.assets.toLocaleString('en-GB')} assets (${result.bulkFreight.toLocaleString('en-GB')} in ${BULK_FREIGHT.title}) in ${result.seconds.toFixed(1)} s`);
  // the state a database is in once autovacuum has seen it: hint bits set, visibility map filled
  const t = performance.now();
  await db.raw('vacuum (analyze) assets');
  say(`vacuum (analyze) assets: ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

async function startChild(file: string, childEnv: Record<string, string>, setup?: unknown): Promise<Child> {
  const proc = fork(path.join(benchDir, file), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...childEnv },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push(() => stopChild(proc));
  if (setup) proc.send(setup as never);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start within 60 s`)), 60_000);
    proc.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    proc.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
  });
  return { proc, base: `http://127.0.0.1:${port}` };
}

async function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function cleanUp(): Promise<void> {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch (err) {
      console.error('bench: clean-up step failed:', err instanceof Error ? err.message : err);
    }
  }
}

/** Signs in through the real form (CSRF token and all) and returns the session cookie. */
async function signIn(base: string, email: string, password: string): Promise<string> {
  const page = await fetch(`${base}/login`, { signal: AbortSignal.timeout(30_000) });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!csrf) throw new Error('no CSRF token on /login');
  const res = await postLogin(base, cookieOf(page), csrf, email, password);
  if (res.status !== 303) throw new Error(`sign-in as ${email} answered ${res.status}`);
  return cookieOf(res);
}

function postLogin(base: string, cookie: string, csrf: string, email: string, password: string): Promise<Response> {
  return fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password, _csrf: csrf }),
    signal: AbortSignal.timeout(60_000),
  });
}

function cookieOf(res: Response): string {
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

/** VmRSS of a process in bytes, sampled every 50 ms while `work` runs: the peak above the level before. */
async function peakRssGrowth<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  const before = rss();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rss())), 50);
  try {
    const value = await work();
    peak = Math.max(peak, rss());
    return { value, growth: peak - before };
  } finally {
    clearInterval(timer);
  }
}

/** GET /assets.csv through the app against COPY (the same select) TO STDOUT straight from PostgreSQL. */
async function benchCsv(app: Child, cookie: string, csv: { path: string; copy: () => Promise<Readable> }): Promise<void> {
  const viaApp = async () => {
    const t = performance.now();
    const res = await fetch(`${app.base}${csv.path}`, { headers: { cookie }, signal: AbortSignal.timeout(600_000) });
    if (res.status !== 200) throw new Error(`${csv.path} answered ${res.status}`);
    let bytes = 0;
    let rows = 0;
    for await (const chunk of res.body! as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) rows++;
    }
    return { seconds: (performance.now() - t) / 1000, bytes, rows };
  };
  const viaCopy = async () => {
    const t = performance.now();
    let bytes = 0;
    let rows = 0;
    for await (const chunk of (await csv.copy()) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) rows++;
    }
    return { seconds: (performance.now() - t) / 1000, bytes, rows };
  };
  const appRuns: number[] = [];
  const copyRuns: number[] = [];
  let growth = 0;
  let appRows = 0;
  let copyRows = 0;
  for (let run = 0; run < env.runs; run++) {
    const order = run % 2 === 0 ? ['app', 'copy'] : ['copy', 'app'];
    for (const who of order) {
      if (who === 'app') {
        const r = await peakRssGrowth(app.proc.pid!, viaApp);
        appRuns.push(r.value.seconds);
        appRows = r.value.rows;
        growth = Math.max(growth, r.growth);
      } else {
        const r = await viaCopy();
        copyRuns.push(r.seconds);
        copyRows = r.rows;
      }
    }
  }
  const mid = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const a = mid(appRuns);
  const c = mid(copyRuns);
  say(`CSV export: app ${a.toFixed(2)} s (${appRows.toLocaleString('en-GB')} lines), COPY TO STDOUT ${c.toFixed(2)} s (${copyRows.toLocaleString('en-GB')} lines), app at ${Math.round((c / a) * 100)} % of COPY's speed, app RSS growth ${(growth / 2 ** 20).toFixed(1)} MB at most`);
}

/** 50 sign-ins at once while another page is under load: how long the burst takes and what it does to that page's p99. */
async function benchLoginBurst(app: Child, headers: Record<string, string>, pagePath: string): Promise<void> {
  const forms = await Promise.all(
    Array.from({ length: 50 }, async () => {
      const page = await fetch(`${app.base}/login`, { signal: AbortSignal.timeout(30_000) });
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
      return { cookie: cookieOf(page), csrf };
    }),
  );
  const quiet = await measure(`${app.base}${pagePath}`, headers, env.seconds);
  const loaded = measure(`${app.base}${pagePath}`, headers, env.seconds);
  await new Promise((r) => setTimeout(r, 1000));
  const t = performance.now();
  const answers = await Promise.all(forms.map((f) => postLogin(app.base, f.cookie, f.csrf, BULK_FREIGHT.adminEmail, DEMO_PASSWORD)));
  const burst = (performance.now() - t) / 1000;
  const during = await loaded;
  const ok = answers.filter((r) => r.status === 303).length;
  say(`login burst: ${ok} of 50 sign-ins in ${burst.toFixed(2)} s; asset list page 1 meanwhile p99 ${during.p99} ms (p50 ${during.p50} ms, ${Math.round(during.rps)} req/s), without the burst p99 ${quiet.p99} ms`);
}

function only(raw: string | undefined): 'assets' | 'billing' | null {
  if (!raw) return null;
  if (raw === 'assets' || raw === 'billing') return raw;
  throw new Error(`BENCH_ONLY wants assets or billing, not ${JSON.stringify(raw)}`);
}

function whole(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const n = Number(raw.replaceAll(/[_,]/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} wants a whole number above 0, not ${JSON.stringify(raw)}`);
  return n;
}
