import type { Db, Trx } from '../../db/index.js';

/** Removes expired sessions; the session store's own timer is off so only one instance does this. */
export async function pruneExpiredSessions(db: Db, now: Date): Promise<number> {
  return db('session').where('expire', '<', now).del();
}

/** Ends every session of a user at once (all instances: sessions live only in PostgreSQL). */
export async function endSessionsOfUser(db: Db | Trx, userId: string, exceptSid?: string): Promise<number> {
  const q = db('session').where({ user_id: userId });
  if (exceptSid) q.whereNot({ sid: exceptSid });
  return q.del();
}

/** Ends the sessions acting through one of a user's memberships (when that membership is disabled). */
export async function endSessionsOfMembership(db: Db | Trx, userId: string, membershipId: string): Promise<number> {
  return db('session').where({ user_id: userId }).whereRaw("sess->>'membershipId' = ?", [membershipId]).del();
}

/** Ends the sessions a user opened with a login link (when the link is refreshed or disabled). */
export async function endLinkSessionsOfUser(db: Db | Trx, userId: string): Promise<number> {
  return db('session').where({ user_id: userId }).whereRaw("sess->>'viaLink' = 'true'").del();
}

export type SessionSummary = {
  sid: string;
  createdAt: Date | null;
  lastSeenAt: Date | null;
  userAgent: string | null;
  expires: Date;
};

export async function listSessionsOfUser(db: Db | Trx, userId: string, now: Date): Promise<SessionSummary[]> {
  const rows: { sid: string; sess: Record<string, unknown>; expire: Date }[] = await db('session')
    .where({ user_id: userId })
    .where('expire', '>', now)
    .select('sid', 'sess', 'expire');
  return rows
    .map((r) => ({
      sid: r.sid,
      createdAt: typeof r.sess.createdAt === 'number' ? new Date(r.sess.createdAt) : null,
      lastSeenAt: typeof r.sess.lastSeenAt === 'number' ? new Date(r.sess.lastSeenAt) : null,
      userAgent: typeof r.sess.userAgent === 'string' ? r.sess.userAgent : null,
      expires: r.expire,
    }))
    .sort((a, b) => (b.lastSeenAt?.getTime() ?? 0) - (a.lastSeenAt?.getTime() ?? 0));
}

/** Ends one of the user's own sessions; a session id of someone else's is simply not found. */
export async function endOwnSession(db: Db | Trx, userId: string, sid: string): Promise<boolean> {
  return (await db('session').where({ user_id: userId, sid }).del()) > 0;
}
