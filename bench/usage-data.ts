import type { Db } from '../src/db/index.js';
import { seedBulkUsage, usageRecordCount } from '../src/demo/bulk-usage.js';
import { say, whole } from './harness.js';

/** BENCH_USAGE: the usage records the billing and partner suites share (DESIGN.md section 7's 10,000,000). */
export const BENCH_USAGE = whole('BENCH_USAGE', 10_000_000);

/**
 * The bench's usage records, generated once for every suite that reads them (unless a kept database
 * has them already), then vacuumed as autovacuum would have; says how long it took.
 */
export async function ensureUsage(db: Db, wanted = BENCH_USAGE): Promise<void> {
  const have = await usageRecordCount(db);
  if (have >= wanted) {
    say(`usage records: reusing the ${have.toLocaleString('en-GB')} already there`);
    return;
  }
  const r = await seedBulkUsage(db, {
    records: wanted - have,
    onProgress: (p) =>
      say(
        `usage records: ${p.done.toLocaleString('en-GB')} / ${p.total.toLocaleString('en-GB')}` +
          ` (${p.seconds.toFixed(1)} s)`,
      ),
  });
  say(
    `generated ${r.records.toLocaleString('en-GB')} usage records` +
      ` (rollups kept by the triggers as they went) in ${r.seconds.toFixed(1)} s`,
  );
  const t = performance.now();
  await db.raw('vacuum (analyze) usage_records, usage_hourly');
  say(`vacuum (analyze) usage_records, usage_hourly: ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
