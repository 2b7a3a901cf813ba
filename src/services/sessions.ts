import type { Db } from '../db/index.js';

/** Removes expired sessions; the session store's own timer is off so only one instance does this. */
export async function pruneExpiredSessions(db: Db, now: Date): Promise<number> {
  return db('session').where('expire', '<', now).del();
}
