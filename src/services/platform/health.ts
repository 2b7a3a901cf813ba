import type { Db } from '../../db/index.js';

/** True when the database answers a trivial query within the time allowed. */
export async function isDatabaseReady(db: Db, timeoutMs = 2000): Promise<boolean> {
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  const probe = db.raw('select 1').then(
    () => true,
    () => false,
  );
  return Promise.race([probe, timeout]);
}
