import { createHash } from 'node:crypto';
import type { Db, Trx } from '../../db/index.js';

/** A stable 64-bit advisory lock key for a job name. */
function lockKey(name: string): string {
  return createHash('sha256').update(`portico-job:${name}`).digest().readBigInt64BE(0).toString();
}

/**
 * Runs fn in a transaction that holds the job's advisory lock, or not at all when another
 * instance holds it. Transaction-level, so it works through PgBouncer and frees itself on any end.
 */
export async function runExclusively<T>(
  db: Db,
  name: string,
  fn: (trx: Trx) => Promise<T>,
): Promise<{ ran: true; result: T } | { ran: false }> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: { locked: boolean }[] }>(
      'select pg_try_advisory_xact_lock(?::bigint) as locked',
      [lockKey(name)],
    );
    if (!rows[0]?.locked) return { ran: false as const };
    return { ran: true as const, result: await fn(trx) };
  });
}
