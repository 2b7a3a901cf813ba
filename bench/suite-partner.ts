import type { Db } from '../src/db/index.js';
import { inTenant } from '../src/db/tenant.js';
import { loadActor } from '../src/services/people/sign-in.js';
import { demoId, DEMO_PASSWORD, hasDemoData, seedDemo } from '../src/demo/data.js';
import { encodeUsageCursor, usageFilterFrom, type UsageLogFilter } from '../src/services/partners/usage-rules.js';
import { usageLogStatements } from '../src/services/partners/view.js';
import type { Actor } from '../src/services/access/index.js';
import { addDays, todayIn } from '../src/services/assets/subscription-rules.js';
import type { BareUsageCase } from './bare-usage-server.js';
import {
  compare,
  env,
  fmt,
  measure,
  median,
  record,
  rpsText,
  say,
  signIn,
  startChild,
  type BenchSuite,
} from './harness.js';
import { ensureUsage } from './usage-data.js';

const DEPTH = 500_000;
const PARTNER = 'partner@bluewave.test';

/**
 * The partner usage log fragment (Northwind's SMS, the last year, 25 rows) for Bluewave's partner
 * viewer, on page 1 and on a page 500,000 records deep (or 90 % of the way at a small BENCH_USAGE),
 * against a bare page of the same SQL, over the BENCH_USAGE (10,000,000) usage records the billing
 * suite reads too (generated once: Northwind has 60 % of them, a sixth of those SMS).
 */
export const partnerSuite: BenchSuite = {
  name: 'partner',
  async run(ctx) {
    if (!(await hasDemoData(ctx.db))) await seedDemo(ctx.db);
    await ensureUsage(ctx.db);
    const actor = (await loadActor(ctx.db, demoId(`user:${PARTNER}`), demoId(`membership:${PARTNER}`))) as Actor;
    const northwind = demoId('customer:northwind');
    const today = todayIn(actor.timeZone, new Date());
    const filter = usageFilterFrom({ from: addDays(today, -365) }, today);
    const [{ n: total }] = (await ctx
      .db('usage_records')
      .where({ tenant_id: actor.tenantId, customer_id: northwind, product: 'sms' })
      .whereRaw('occurred_at >= (?::date)::timestamp at time zone ?', [filter.from, actor.timeZone])
      .count<{ n: number }[]>({ n: '*' })) as [{ n: number }];
    const position = Math.min(DEPTH, Math.floor(total * 0.9));
    const after = await cursorAt(ctx.db, actor, northwind, filter, position);

    const setup = tenantSetup(actor.tenantId);
    const sql = (f: UsageLogFilter): BareUsageCase => ({
      sql: [
        setup,
        ...usageLogStatements(ctx.db, actor, northwind, 'sms', f).map((s) => (typeof s === 'string' ? s : s.toQuery())),
      ].join(';\n'),
    });
    const base = `/partner/customers/${northwind}/usage/sms?from=${filter.from}`;
    const cases = [
      { key: 'page1', title: 'partner usage log page 1', appPath: base, bare: sql(filter) },
      {
        key: 'deep',
        title: `partner usage log deep page (${position.toLocaleString('en-GB')} records in)`,
        appPath: `${base}&after=${encodeURIComponent(encodeUsageCursor(after))}`,
        bare: sql({ ...filter, after }),
      },
    ];
    const app = await ctx.app();
    const cookie = await signIn(app.base, PARTNER, DEMO_PASSWORD);
    const bare = await startChild(
      'bare-usage-server.ts',
      {},
      { url: ctx.url, poolMax: env.poolMax, cases: Object.fromEntries(cases.map((c) => [c.key, c.bare])) },
    );
    // the log fragment, as the Older link asks for it
    const fragment = { cookie, 'hx-request': 'true', 'hx-target': 'div#usage-log' };
    for (const c of cases) {
      await sameRows(`${app.base}${c.appPath}`, fragment, `${bare.base}/bare/${c.key}`, c.title);
      await compare(c.title, `${app.base}${c.appPath}`, fragment, `${bare.base}/bare/${c.key}`, {
        minRatio: 50,
        maxP99: 50,
      });
    }
    // what a new filter swaps: the chart of the period (from the hourly rollups) and page 1
    const month = usageFilterFrom({}, today);
    const inPeriod = await ctx
      .db('usage_records')
      .where({ tenant_id: actor.tenantId, customer_id: northwind, product: 'sms' })
      .whereRaw('occurred_at >= (?::date)::timestamp at time zone ?', [month.from, actor.timeZone])
      .count<{ n: number }[]>({ n: '*' });
    const results = median([
      await measure(
        `${app.base}/partner/customers/${northwind}/usage/sms`,
        { cookie, 'hx-request': 'true' },
        env.seconds,
      ),
    ]);
    const records = Number(inPeriod[0]!.n).toLocaleString('en-GB');
    say(`partner usage chart and page 1 (the default 30 days, ${records} records): app ${fmt(results)}`);
    record({
      case: 'partner usage chart and page 1 (30 days)',
      app: rpsText(results),
      p99: results.p99,
      target: 'p99 ≤ 50 ms',
      met: results.rps ? results.p99 <= 50 : null,
    });
  },
};

/** The keyset cursor `position` records into the log, by one OFFSET query (fine once, never in the app). */
async function cursorAt(db: Db, actor: Actor, customerId: string, filter: UsageLogFilter, position: number) {
  const row = await inTenant(db, actor.tenantId, (trx) =>
    trx('usage_records as u')
      .where({ 'u.tenant_id': actor.tenantId, 'u.customer_id': customerId, 'u.product': 'sms' })
      .whereRaw('u.occurred_at >= (?::date)::timestamp at time zone ?', [filter.from, actor.timeZone])
      .orderBy([
        { column: 'u.occurred_at', order: 'desc' },
        { column: 'u.id', order: 'desc' },
      ])
      .offset(position - 1)
      .first<{ at: string; id: number }>(
        trx.raw(`to_char(u.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`),
        'u.id',
      ),
  );
  return { occurredAt: row.at, id: String(row.id) };
}

/** Both pages must show the same records (their times), or the comparison means nothing. */
async function sameRows(
  appUrl: string,
  headers: Record<string, string>,
  bareUrl: string,
  title: string,
): Promise<void> {
  const times = async (u: string, h: Record<string, string>) => {
    const res = await fetch(u, { headers: h, signal: AbortSignal.timeout(30_000) });
    if (res.status !== 200) throw new Error(`${u} answered ${res.status}`);
    return (await res.text()).match(/datetime="[^"]+"/g) ?? [];
  };
  const [a, b] = [await times(appUrl, headers), await times(bareUrl, {})];
  if (a.length !== 25 || a.join() !== b.join())
    throw new Error(`${title}: the app shows ${a.length} records (${a[0]}…), the bare page ${b.length} (${b[0]}…)`);
}

/** What queryInTenant (src/db/tenant.ts) sends first: the tenant goes in as a literal, so only a uuid. */
function tenantSetup(tenantId: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tenantId))
    throw new Error('tenant id is not a uuid');
  return `select set_config('portico.tenant_id', '${tenantId}', true), set_config('role', 'portico_app', true)`;
}
