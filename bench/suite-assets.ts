import type { Readable } from 'node:stream';
import type { Db } from '../src/db/index.js';
import { BULK_FREIGHT, bulkAssetCount, seedBulkAssets } from '../src/demo/bulk.js';
import { DEMO_PASSWORD } from '../src/demo/data.js';
import type { BareCase } from './bare-server.js';
import {
  compare,
  record,
  cookieOf,
  env,
  measure,
  peakRssGrowth,
  postLogin,
  say,
  signIn,
  startChild,
  type BenchSuite,
  type Child,
} from './harness.js';
import { listCases } from './list-cases.js';

/**
 * The asset list against a bare page of the same SQL (page 1, a deep page, a search, a deep page
 * of a tab), its CSV export against COPY TO STDOUT and a burst of sign-ins, on `BENCH_ASSETS`
 * generated assets. The scheduled jobs over the same assets are the `jobs` suite.
 */
export const assetsSuite: BenchSuite = {
  name: 'assets',
  async run(ctx) {
    await ensureAssets(ctx.db);
    const app = await ctx.app();
    const cookie = await signIn(app.base, BULK_FREIGHT.adminEmail, DEMO_PASSWORD);
    const cases = await listCases(ctx.db, BULK_FREIGHT.adminEmail);
    const bare = await startChild(
      'bare-server.ts',
      {},
      {
        url: ctx.url,
        poolMax: env.poolMax,
        cases: Object.fromEntries(cases.list.map((c) => [c.key, c.bare] as [string, BareCase])),
      },
    );
    say(
      `app pid ${app.proc.pid} at ${app.base}, bare page pid ${bare.proc.pid} at ${bare.base}; ` +
        `${env.connections} connections, ${env.seconds} s a run, median of ${env.runs} runs, alternating order`,
    );

    const fragment = { cookie, 'hx-request': 'true' };
    for (const c of cases.list) {
      await sameRows(`${app.base}${c.appPath}`, fragment, `${bare.base}/bare/${c.key}`, c.title);
      await compare(c.title, `${app.base}${c.appPath}`, fragment, `${bare.base}/bare/${c.key}`, {
        minRatio: 60,
        maxP99: 40,
      });
    }

    await benchCsv(app, cookie, cases.csv);
    await benchLoginBurst(app, fragment, cases.list[0]!.appPath);
  },
};

/** The app's fragment and the bare page must show the same rows, or the comparison means nothing. */
async function sameRows(
  appUrl: string,
  headers: Record<string, string>,
  bareUrl: string,
  title: string,
): Promise<void> {
  const ids = async (u: string, h: Record<string, string>) => {
    const res = await fetch(u, { headers: h, signal: AbortSignal.timeout(30_000) });
    if (res.status !== 200) throw new Error(`${u} answered ${res.status}`);
    return [...new Set((await res.text()).match(/\b35\d{13}\b/g) ?? [])];
  };
  const [a, b] = [await ids(appUrl, headers), await ids(bareUrl, {})];
  if (a.length === 0 || a.join() !== b.join())
    throw new Error(
      `${title}: the app shows ${a.length} assets (${a.slice(0, 2).join(', ')}…),` +
        ` the bare page ${b.length} (${b.slice(0, 2).join(', ')}…)`,
    );
}

/** The generator's assets, unless a kept database has them already. */
export async function ensureAssets(db: Db): Promise<void> {
  const have = await bulkAssetCount(db);
  if (have >= env.assets) {
    say(`assets: reusing the ${have.toLocaleString('en-GB')} bulk assets already there`);
    return;
  }
  const result = await seedBulkAssets(db, {
    assets: env.assets - have,
    onProgress: (p) =>
      say(`assets: ${p.done.toLocaleString('en-GB')} / ${p.total.toLocaleString('en-GB')} (${p.seconds.toFixed(1)} s)`),
  });
  say(
    `generated ${result.assets.toLocaleString('en-GB')} assets` +
      ` (${result.bulkFreight.toLocaleString('en-GB')} in ${BULK_FREIGHT.title}) in ${result.seconds.toFixed(1)} s`,
  );
  // the state a database is in once autovacuum has seen it: hint bits set, visibility map filled, the
  // trigram index's pending list merged. Every table the generator wrote (assets, their search text,
  // subscriptions, counts), not only assets: left to autovacuum, it would run during the first cases
  const t = performance.now();
  await db.raw('vacuum (analyze)');
  say(`vacuum (analyze) of the whole database: ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/** GET /assets.csv through the app against COPY (the same select) TO STDOUT straight from PostgreSQL. */
async function benchCsv(
  app: Child,
  cookie: string,
  csv: { path: string; copy: () => Promise<Readable> },
): Promise<void> {
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
  const rssGrowthMb = (growth / 2 ** 20).toFixed(1);
  const share = Math.round((c / a) * 100);
  record({
    case: `CSV export (RSS growth ${rssGrowthMb} MB)`,
    app: `${a.toFixed(2)} s`,
    bare: `COPY ${c.toFixed(2)} s`,
    ratio: `${share} %`,
    target: '≥ 60 % of COPY, RSS growth < 64 MB',
    met: share >= 60 && growth < 64 * 2 ** 20,
  });
  say(
    `CSV export: app ${a.toFixed(2)} s (${appRows.toLocaleString('en-GB')} lines),` +
      ` COPY TO STDOUT ${c.toFixed(2)} s (${copyRows.toLocaleString('en-GB')} lines),` +
      ` app at ${Math.round((c / a) * 100)} % of COPY's speed, app RSS growth ${rssGrowthMb} MB at most`,
  );
}

/**
 * 50 sign-ins at once while another page is under load: how long the burst takes
 * and what it does to that page's p99.
 */
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
  const answers = await Promise.all(
    forms.map((f) => postLogin(app.base, f.cookie, f.csrf, BULK_FREIGHT.adminEmail, DEMO_PASSWORD)),
  );
  const burst = (performance.now() - t) / 1000;
  const during = await loaded;
  const ok = answers.filter((r) => r.status === 303).length;
  record({
    case: `asset list page 1 during 50 sign-ins (${ok} of 50 in ${burst.toFixed(2)} s; p99 ${quiet.p99} ms without)`,
    app: `${Math.round(during.rps)} req/s`,
    p99: during.p99,
    target: 'p99 < 100 ms',
    met: during.rps ? during.p99 < 100 : null,
  });
  say(
    `login burst: ${ok} of 50 sign-ins in ${burst.toFixed(2)} s;` +
      ` asset list page 1 meanwhile p99 ${during.p99} ms (p50 ${during.p50} ms, ${Math.round(during.rps)} req/s),` +
      ` without the burst p99 ${quiet.p99} ms`,
  );
}
