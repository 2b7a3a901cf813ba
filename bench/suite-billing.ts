import type { Db } from '../src/db/index.js';
import { loadActor } from '../src/services/people/sign-in.js';
import { DEMO_PASSWORD, demoId } from '../src/demo/data.js';
import { generateInvoice } from '../src/services/billing/invoice-generation.js';
import { setInvoiceStatus } from '../src/services/billing/invoices.js';
import type { Actor } from '../src/services/access/index.js';
import { addDays, addMonths, todayIn } from '../src/services/assets/subscription-rules.js';
import { env, fmt, measure, median, record, rpsText, say, signIn, type BenchSuite, type Figures } from './harness.js';
import { ensureUsage } from './usage-data.js';

/**
 * The call summaries and invoices of DESIGN.md section 7 over BENCH_USAGE usage records (10,000,000
 * by default; `BENCH_ONLY=billing` runs this suite alone): the Daily, Monthly and Live summary
 * fragments a tenant admin loads for Northwind, which holds 60 % of the records, and the time to
 * generate an invoice from a month of them.
 */
const BILLING_ADMIN = 'admin@demo.test';
const NORTHWIND = demoId('customer:northwind');

type SummaryCase = { title: string; appPath: string };

export const billingSuite: BenchSuite = {
  name: 'billing',
  async run(ctx) {
    await ensureUsage(ctx.db);
    const app = await ctx.app();
    const cookie = await signIn(app.base, BILLING_ADMIN, DEMO_PASSWORD);
    const fragment = { cookie, 'hx-request': 'true' };
    say(
      `call summaries of Northwind as its tenant admin: app pid ${app.proc.pid};` +
        ` ${env.connections} connections, ${env.seconds} s a run, median of ${env.runs} runs`,
    );
    for (const c of summaryCases()) {
      const res = await fetch(`${app.base}${c.appPath}`, { headers: fragment, signal: AbortSignal.timeout(30_000) });
      const body = await res.text();
      if (res.status !== 200 || !body.includes('id="summary-table"'))
        throw new Error(`${c.appPath} answered ${res.status} without the summary table`);
      await measure(`${app.base}${c.appPath}`, fragment, 2); // warm plans and caches
      const runs: Figures[] = [];
      for (let run = 0; run < env.runs; run++)
        runs.push(await measure(`${app.base}${c.appPath}`, fragment, env.seconds));
      const m = median(runs);
      say(`${c.title}: ${fmt(m)}`);
      record({ case: c.title, app: rpsText(m), p99: m.p99, target: 'p99 ≤ 50 ms', met: m.rps ? m.p99 <= 50 : null });
    }
    for (const line of await benchInvoice(ctx.db, 5)) say(line);
  },
};

function summaryCases(now = new Date()): SummaryCase[] {
  const today = todayIn('UTC', now);
  const base = `/admin/customers/${NORTHWIND}/billing/summaries`;
  return [
    { title: 'Daily summary fragment (31 days)', appPath: `${base}?from=${addDays(today, -30)}&to=${today}` },
    {
      title: 'Monthly summary fragment (12 months)',
      appPath: `${base}?view=monthly&from=${addMonths(today, -11).slice(0, 7)}&to=${today.slice(0, 7)}`,
    },
    { title: 'Live summary fragment (today by hour)', appPath: `${base}?view=live` },
  ];
}

async function adminActor(db: Db): Promise<Actor> {
  const m = await db('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .where('u.email', BILLING_ADMIN)
    .first<{ user_id: string; id: string }>('m.user_id', 'm.id');
  const actor = m && (await loadActor(db, m.user_id, m.id));
  if (!actor) throw new Error(`no user ${BILLING_ADMIN}`);
  return actor;
}

/**
 * Generating (then voiding, so the month is free again) Northwind's invoice for the month before
 * last (last month is the demo's issued invoice), `runs` times; beside it the same month's figures
 * aggregated straight from the records, which is what the rollups spare the invoice.
 */
async function benchInvoice(db: Db, runs: number): Promise<string[]> {
  const actor = await adminActor(db);
  const now = new Date();
  const month = addMonths(todayIn('UTC', now), -2).slice(0, 7);
  const times: number[] = [];
  let lines = 0;
  let total = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const invoice = await generateInvoice(
      db,
      actor,
      NORTHWIND,
      { granularity: 'monthly', product: 'all', periods: [month] },
      now,
    );
    times.push(performance.now() - t);
    total = invoice.total_minor;
    lines++;
    await setInvoiceStatus(db, actor, NORTHWIND, invoice.id, 'void', now, { confirmed: true });
  }
  const t = performance.now();
  const { rows } = await db.raw<{ rows: { n: string; charge: string }[] }>(
    `select count(*) as n, sum(price_minor) as charge from usage_records
     where tenant_id = ? and customer_id = ?
       and occurred_at >= ?::date::timestamp at time zone 'UTC'
       and occurred_at < (?::date + interval '1 month')::timestamp at time zone 'UTC'`,
    [demoId('tenant:demo'), NORTHWIND, `${month}-01`, `${month}-01`],
  );
  const direct = performance.now() - t;
  const mid = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  const records = Number(rows[0]!.n).toLocaleString('en-GB');
  const same =
    Number(rows[0]!.charge) === total ? 'same total' : `TOTALS DIFFER: records ${rows[0]!.charge}, invoice ${total}`;
  return [
    `invoice from a month of records (Northwind ${month}, ${records} records): generated in ${mid.toFixed(1)} ms` +
      ` (median of ${lines}; from the rollups, number locked, lines and claims written);` +
      ` the same month aggregated straight from the records ${direct.toFixed(0)} ms (${same})`,
  ];
}
