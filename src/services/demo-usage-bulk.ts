import type { Db } from '../db/index.js';
import { demoId } from './demo-data.js';

/**
 * Bulk usage records for benchmarks: `count` SMS records of Northwind (the demo's partner-assigned
 * customer), spread over the year up to `now`, in set-based chunks. Priced like the demo (4p an SMS
 * part, the seeded price list), with made-up numbers and no contact names or content.
 * Written straight by INSERT … SELECT rather than through insertUsageRecords: ten million rows as
 * JSON would take most of the benchmark's time, and these rows need no lookup to be priced.
 */
export const BULK_USAGE_CHUNK = 500_000;

export async function northwindSmsCount(db: Db): Promise<number> {
  const row = await db('usage_records').where({ tenant_id: demoId('tenant:demo'), customer_id: demoId('customer:northwind'), product: 'sms' }).count<{ n: number }[]>({ n: '*' });
  return Number(row[0]?.n ?? 0);
}

export async function seedBulkUsage(
  db: Db,
  opts: { count: number; now?: Date; onProgress?: (p: { done: number; total: number; seconds: number }) => void },
): Promise<{ records: number; seconds: number }> {
  const started = performance.now();
  const now = (opts.now ?? new Date()).toISOString();
  let done = 0;
  while (done < opts.count) {
    const n = Math.min(BULK_USAGE_CHUNK, opts.count - done);
    await db.raw(
      `
      insert into usage_records (tenant_id, customer_id, product, occurred_at, direction, status, from_number, to_number,
        duration_seconds, units, price_minor, currency)
      select :tenant, :customer, 'sms',
        -- spread over 365 days up to now, a different second for every record of a chunk
        :now::timestamptz - make_interval(secs => ((:offset + i)::bigint * 7919 % (365 * 86400))::double precision),
        case when i % 3 = 0 then 'inbound' else 'outbound' end,
        (array['delivered', 'delivered', 'delivered', 'failed', 'pending'])[1 + i % 5],
        '+44' || (7700000000 + (:offset + i) % 900000)::text,
        '+44' || (7800000000 + ((:offset + i) * 13) % 900000)::text,
        0, 1 + i % 2, 4 * (1 + i % 2), 'GBP'
      from generate_series(1, :n) as i
      `,
      { tenant: demoId('tenant:demo'), customer: demoId('customer:northwind'), now, offset: done, n },
    );
    done += n;
    opts.onProgress?.({ done, total: opts.count, seconds: (performance.now() - started) / 1000 });
  }
  return { records: done, seconds: (performance.now() - started) / 1000 };
}
