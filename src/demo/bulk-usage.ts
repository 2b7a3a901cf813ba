import type { Db } from '../db/index.js';
import { demoId, hasDemoData, seedDemo } from './data.js';

/**
 * The usage scale of DESIGN.md section 7 for benchmarks: adds `records` usage records to the Demo
 * tenant (seeding the demo first when it is missing), set-based with generate_series in statements
 * of BATCH rows, so the rollup triggers run once a batch, as they would for the ingestion API's
 * batches. Northwind gets 60 % of them (its summaries are what the benchmark reads), Acme 25 %,
 * Harbor 15 %, spread over the `days` days up to `now`, in every product and outcome, priced like
 * the demo. Numbers are made up (+44 7700 9xx xxx, Ofcom's drama range). Running it again adds more.
 */
const TENANT = demoId('tenant:demo');
const BATCH = 1_000_000;
const SHARES = [
  { customer: 'northwind', share: 0.6 },
  { customer: 'acme', share: 0.25 },
  { customer: 'harbor', share: 0.15 },
] as const;

export type BulkUsageProgress = { done: number; total: number; seconds: number };

export async function seedBulkUsage(
  db: Db,
  opts: { records: number; days?: number; now?: Date; onProgress?: (p: BulkUsageProgress) => void },
): Promise<{ records: number; seconds: number }> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const total = Math.max(0, Math.floor(opts.records));
  const now = opts.now ?? new Date();
  const span = (opts.days ?? 90) * 86_400;
  if (!(await hasDemoData(db))) await seedDemo(db, { now });
  // a sequence offset per run, so a second run spreads new records between the first one's
  const offset = Number(
    (await db('usage_records').where('tenant_id', TENANT).count<{ n: number }[]>({ n: '*' }))[0]!.n,
  );
  let done = 0;
  for (const { customer, share } of SHARES) {
    const count = customer === 'harbor' ? total - done : Math.round(total * share);
    for (let from = 0; from < count; from += BATCH) {
      const n = Math.min(BATCH, count - from);
      const first = offset + done + 1;
      await db.raw(
        `insert into usage_records (tenant_id, customer_id, product, occurred_at, direction, status,
           from_number, to_number, duration_seconds, units, price_minor, currency)
         select :tenant, :customer, p.product,
           :end::timestamptz - make_interval(secs => ((i * 7919) % :span)::double precision),
           case when i % 3 = 0 then 'inbound' else 'outbound' end,
           case when p.product in ('voice', 'video')
             then (array['answered', 'answered', 'answered', 'no_answer', 'busy', 'failed'])[1 + (i % 6)::int]
             else (array['delivered', 'delivered', 'delivered', 'failed', 'pending'])[1 + (i % 5)::int] end,
           '+447700' || lpad((900000 + i % 1000)::text, 6, '0'),
           '+447700' || lpad((900000 + (i * 31) % 100000)::text, 6, '0'),
           p.seconds, case when p.product = 'sms' then 1 + (i % 2)::int else 1 end,
           case p.product when 'voice' then 5 * ceil(p.seconds / 60.0)::int when 'sms' then 4 * (1 + (i % 2)::int)
             when 'video' then case when p.seconds > 0 then 10 else 0 end else 2 end,
           c.currency
         from generate_series(:first::bigint, :last::bigint) as i
         cross join lateral (
           select (array['voice', 'voice', 'sms', 'voice', 'video', 'messaging'])[1 + ((i / 7) % 6)::int] as product
         ) as p0
         cross join lateral (
           select p0.product,
             case when p0.product in ('voice', 'video') and i % 6 < 3 then (15 + (i * 37) % 900)::int
                  else 0 end as seconds
         ) as p
         join customers c on c.tenant_id = :tenant and c.id = :customer`,
        {
          tenant: TENANT,
          customer: demoId(`customer:${customer}`),
          end: now.toISOString(),
          span,
          first,
          last: first + n - 1,
        },
      );
      done += n;
      opts.onProgress?.({ done, total, seconds: seconds() });
    }
  }
  await db.raw('analyze usage_records, usage_hourly');
  return { records: total, seconds: seconds() };
}

/** How many usage records the Demo tenant has. */
export async function usageRecordCount(db: Db): Promise<number> {
  return Number((await db('usage_records').where('tenant_id', TENANT).count<{ n: number }[]>({ n: '*' }))[0]!.n);
}
