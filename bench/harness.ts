import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startEmbeddedPostgres, type EmbeddedServer } from '../src/db/embedded.js';
import { ensureDatabase, type Db } from '../src/db/index.js';

/**
 * What every benchmark suite shares: the settings, the database, child processes (the app, bare
 * yardstick pages), measuring with autocannon, medians and the printed figures. A suite is a file of
 * its own (bench/suite-*.ts) listed in bench/run.ts.
 */
export const env = {
  assets: whole('BENCH_ASSETS', 1_000_000),
  seconds: whole('BENCH_SECONDS', 10),
  runs: whole('BENCH_RUNS', 3),
  connections: whole('BENCH_CONNECTIONS', 20),
  poolMax: whole('BENCH_POOL_MAX', 10),
  databaseUrl: process.env.BENCH_DATABASE_URL,
  keep: process.env.BENCH_KEEP === '1',
  dataDir: process.env.BENCH_DATA_DIR,
  profileDir: process.env.BENCH_PROFILE ? path.resolve(process.env.BENCH_PROFILE) : undefined,
};
export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const cleanups: (() => Promise<void>)[] = [];
/** the bench's own connection, for settle() */
let settleDb: Db | null = null;
export const say = (line: string) => console.log(line);

export function settleWith(db: Db): void {
  settleDb = db;
}

export type Figures = { rps: number; p50: number; p99: number; failed: number };
export type Child = { proc: ChildProcess; base: string };

/** A suite of DESIGN.md section 7's figures; `BENCH_ONLY=name,name` runs only those. */
export type BenchSuite = { name: string; run(ctx: BenchContext): Promise<void> };

export type BenchContext = {
  db: Db;
  url: string;
  /** the real app in its child process, started on first use and shared by the suites */
  app(): Promise<Child>;
};

/** One line of the summary table `npm run bench` prints at its end. */
export type Outcome = {
  case: string;
  /** what the app did: req/s, or a time */
  app: string;
  bare?: string;
  ratio?: string;
  p99?: number;
  target: string;
  /** null when there is nothing to compare (no answer) */
  met: boolean | null;
};
type Row = Outcome & { suite: string; load: string };
const outcomes: Row[] = [];
let suiteNow = { name: '', load: '' };

/** The suite the next outcomes belong to, and the 1-minute load average it started at. */
export function beginSuite(name: string, load: number): void {
  suiteNow = { name, load: load.toFixed(2) };
}

export function record(outcome: Outcome): void {
  outcomes.push({ ...outcome, suite: suiteNow.name, load: suiteNow.load });
}

/** What a page's figures must reach: a share of its bare page's req/s, a p99 at most. */
export type Target = { minRatio?: number; maxP99?: number };

export function targetText(t: Target): string {
  return [t.minRatio ? `≥ ${t.minRatio} % of bare` : '', t.maxP99 ? `p99 ≤ ${t.maxP99} ms` : '']
    .filter(Boolean)
    .join(', ');
}

export function meets(t: Target, f: Figures, bare?: Figures): boolean | null {
  if (!f.rps || (t.minRatio && !bare?.rps)) return null;
  const ratioOk = !t.minRatio || (f.rps / bare!.rps) * 100 >= t.minRatio;
  const p99Ok = !t.maxP99 || f.p99 <= t.maxP99;
  return ratioOk && p99Ok;
}

/** The table of every outcome recorded, one line each, for the end of the run. */
export function summaryTable(): string[] {
  const head = ['suite', 'case', 'app', 'bare', 'ratio', 'p99', 'target', 'met', 'load'];
  const rows = outcomes.map((o) => [
    o.suite,
    o.case,
    o.app,
    o.bare ?? '',
    o.ratio ?? '',
    o.p99 === undefined ? '' : `${o.p99} ms`,
    o.target,
    o.met === null ? 'n/a' : o.met ? 'yes' : 'NO',
    o.load,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join(' | ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)];
}

export function fmt(f: Figures): string {
  const failed = f.failed ? `, ${f.failed} failed or timed out` : '';
  if (!f.rps) return `no answer within ${env.seconds} s${failed}`;
  return `${Math.round(f.rps)} req/s (p50 ${f.p50} ms, p99 ${f.p99} ms${failed})`;
}

export const rpsText = (f: Figures): string => (f.rps ? `${Math.round(f.rps)} req/s` : 'no answer');

/**
 * Before a suite: waits (60 s at most) for the 1-minute load average to fall below 1, so that figures are
 * taken on an idle machine where possible, and returns the load the suite starts at, to print beside them.
 */
export async function waitForIdle(maxSeconds = 60): Promise<number> {
  const before = os.loadavg()[0]!;
  let waited = 0;
  while (os.loadavg()[0]! >= 1 && waited < maxSeconds) {
    await new Promise((r) => setTimeout(r, 2000));
    waited += 2;
  }
  const now = os.loadavg()[0]!;
  const busy = now >= 1 ? ': NOT idle, the figures below are from a busy machine' : '';
  const after = waited ? `, ${now.toFixed(2)} after waiting ${waited} s` : '';
  say(`  load average (1 min) ${before.toFixed(2)}${after}${busy}`);
  return now;
}

export function ratio(a: Figures, b: Figures): string {
  return a.rps && b.rps ? `${Math.round((a.rps / b.rps) * 100)} %` : 'n/a';
}

export function median(runs: Figures[]): Figures {
  const mid = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return {
    rps: mid(runs.map((r) => r.rps)),
    p50: mid(runs.map((r) => r.p50)),
    p99: mid(runs.map((r) => r.p99)),
    failed: runs.reduce((n, r) => n + r.failed, 0),
  };
}

/** One bounded autocannon run. Failed answers are counted and printed, never mixed into the figures. */
export async function measure(url: string, headers: Record<string, string>, seconds: number): Promise<Figures> {
  const r = await autocannon({ url, headers, connections: env.connections, duration: seconds, timeout: 10 });
  await settle();
  return { rps: r['2xx'] / r.duration, p50: r.latency.p50, p99: r.latency.p99, failed: r.non2xx + r.errors };
}

/**
 * Requests the load generator gave up on may still be running in PostgreSQL: wait for them (30 s at
 * most, then cancel them) so they do not weigh on the next run.
 */
export async function settle(): Promise<void> {
  if (!settleDb) return;
  // only the app's and the bare page's connections (BENCH_DATABASE_URL may be shared)
  const others =
    "datname = current_database() and pid <> pg_backend_pid() and state = 'active' " +
    "and application_name in ('portico', 'portico-bench-bare')";
  let cancelled = 0;
  for (let waited = 0; waited < 60_000; waited += 250) {
    const { rows } = await settleDb.raw<{ rows: { n: number }[] }>(
      `select count(*)::int as n from pg_stat_activity where ${others}`,
    );
    if (!rows[0]!.n) break;
    // past 30 s, cancel what runs (queued requests then start and are cancelled in turn)
    if (waited >= 30_000)
      cancelled += (
        await settleDb.raw<{ rows: unknown[] }>(`select pg_cancel_backend(pid) from pg_stat_activity where ${others}`)
      ).rows.length;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (cancelled) say(`  (cancelled ${cancelled} queries still running 30 s after their run)`);
}

/**
 * The embedded PostgreSQL (fast mode: no fsync, as in the tests; the figures are about the app),
 * or BENCH_DATABASE_URL.
 */
export async function benchDatabase(settings: string[] = []): Promise<string> {
  if (env.databaseUrl) return env.databaseUrl;
  const dir = env.dataDir
    ? path.resolve(env.dataDir)
    : env.keep
      ? path.resolve('.data/bench')
      : await mkdtemp(path.join(os.tmpdir(), 'portico-bench-'));
  const server: EmbeddedServer = await startEmbeddedPostgres({ dir: path.join(dir, 'postgres'), fast: true, settings });
  cleanups.push(async () => {
    await server.stop();
    if (!env.keep && !env.dataDir) await rm(dir, { recursive: true, force: true });
  });
  await ensureDatabase(server.url(), 'portico_bench');
  say(`PostgreSQL (embedded, fast mode) in ${dir}${env.keep || env.dataDir ? ', kept after the run' : ''}`);
  return server.url('portico_bench');
}

export async function startChild(file: string, childEnv: Record<string, string>, setup?: unknown): Promise<Child> {
  const proc = fork(path.join(benchDir, file), [], {
    // the thread pool sized as `npm start` sizes it (scripts/threadpool.cjs)
    execArgv: [
      '--require',
      path.join(benchDir, '../scripts/threadpool.cjs'),
      '--import',
      'tsx',
      // BENCH_PROFILE=dir: the app's CPU profile (open it in Chrome's DevTools), written when it stops
      ...(env.profileDir && file === 'app-server.ts' ? ['--cpu-prof', `--cpu-prof-dir=${env.profileDir}`] : []),
    ],
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

export async function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function cleanUp(): Promise<void> {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch (err) {
      console.error('bench: clean-up step failed:', err instanceof Error ? err.message : err);
    }
  }
}

/** Signs in through the real form (CSRF token and all) and returns the session cookie. */
export async function signIn(base: string, email: string, password: string): Promise<string> {
  const page = await fetch(`${base}/login`, { signal: AbortSignal.timeout(30_000) });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!csrf) throw new Error('no CSRF token on /login');
  const res = await postLogin(base, cookieOf(page), csrf, email, password);
  if (res.status !== 303) throw new Error(`sign-in as ${email} answered ${res.status}`);
  return cookieOf(res);
}

export function postLogin(
  base: string,
  cookie: string,
  csrf: string,
  email: string,
  password: string,
): Promise<Response> {
  return fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password, _csrf: csrf }),
    signal: AbortSignal.timeout(60_000),
  });
}

export function cookieOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

/** VmRSS of a process in bytes, sampled every 50 ms while `work` runs: the peak above the level before. */
export async function peakRssGrowth<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; growth: number }> {
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

export function whole(name: string, fallback: number): number {
  const raw = process.env[name];
  if (!raw) return fallback;
  const n = Number(raw.replaceAll(/[_,]/g, ''));
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${name} wants a whole number above 0, not ${JSON.stringify(raw)}`);
  return n;
}

/**
 * The app's page against a bare page of the same SQL: warmed, then `env.runs` runs each in
 * alternating order, medians compared. Returns the printed line's figures.
 */
export async function compare(
  title: string,
  appUrl: string,
  appHeaders: Record<string, string>,
  bareUrl: string,
  target: Target = {},
): Promise<{ app: Figures; bare: Figures }> {
  // warm both (plans, caches, JIT, the pool's new backends) before anything is measured: two seconds
  // left a freshly started app's first case reading far below the same page measured later
  await measure(appUrl, appHeaders, 5);
  await measure(bareUrl, {}, 5);
  const appRuns: Figures[] = [];
  const bareRuns: Figures[] = [];
  for (let run = 0; run < env.runs; run++) {
    const order = run % 2 === 0 ? ['app', 'bare'] : ['bare', 'app'];
    for (const who of order) {
      if (who === 'app') appRuns.push(await measure(appUrl, appHeaders, env.seconds));
      else bareRuns.push(await measure(bareUrl, {}, env.seconds));
    }
  }
  const a = median(appRuns);
  const b = median(bareRuns);
  say(`${title}: app ${fmt(a)}, bare ${fmt(b)}, ratio ${ratio(a, b)}`);
  record({
    case: title,
    app: rpsText(a),
    bare: rpsText(b),
    ratio: ratio(a, b),
    p99: a.p99,
    target: targetText(target),
    met: meets(target, a, b),
  });
  return { app: a, bare: b };
}
