import type { Db, Trx } from '../../db/index.js';

/** Removes expired sessions; the session store's own timer is off so only one instance does this. */
export async function pruneExpiredSessions(db: Db, now: Date): Promise<number> {
  return db('session').where('expire', '<', now).del();
}

// ---- the session store's writes: a session that was deleted is never stored again ----

/** A session created by this request (a sign-in): its row is inserted once; a taken id is left alone. */
export async function insertSession(db: Db, sid: string, sess: object, expireSeconds: number): Promise<void> {
  await db.raw(
    'insert into session (sid, sess, expire) values (?, ?::json, to_timestamp(?)) on conflict (sid) do nothing',
    [sid, JSON.stringify(sess), expireSeconds],
  );
}

/**
 * A session loaded from its row, written back: only while the row is there, so a request that was in
 * flight when the session was ended cannot bring it back by storing it again.
 */
export async function updateSession(db: Db, sid: string, sess: object, expireSeconds: number): Promise<boolean> {
  const { rowCount } = await db.raw('update session set sess = ?::json, expire = to_timestamp(?) where sid = ?', [
    JSON.stringify(sess),
    expireSeconds,
    sid,
  ]);
  return rowCount > 0;
}

// ---- ending sessions ----

/**
 * Deletes every session row of a user (all instances: sessions live only in PostgreSQL). For a user or
 * membership that is going away; to end the sessions of a user who stays, use revokeSessionsOfUser.
 */
export async function endSessionsOfUser(db: Db | Trx, userId: string, exceptSid?: string): Promise<number> {
  const q = db('session').where({ user_id: userId });
  if (exceptSid) q.whereNot({ sid: exceptSid });
  return q.del();
}

/**
 * Ends every session of a user at once, whatever is in flight: the rows go, and every session issued
 * before `now` is refused from now on (users.sessions_valid_after, checked with the actor on every
 * request), so neither a request that loaded one before nor a copy of a row brings it back.
 * `exceptSid`: the session that asked keeps its row, and the route issues it anew (reissueSession).
 */
export async function revokeSessionsOfUser(
  db: Db | Trx,
  userId: string,
  now: Date,
  exceptSid?: string,
): Promise<number> {
  await db('users').where({ id: userId }).update({ sessions_valid_after: now });
  return endSessionsOfUser(db, userId, exceptSid);
}

/** The sessions a person has with one provider: those acting through one of their memberships of that tenant. */
function sessionsWithTenant(trx: Trx, tenantId: string, userId: string) {
  const memberships = trx('memberships').where({ tenant_id: tenantId, user_id: userId }).select(trx.raw('id::text'));
  return trx('session').where({ user_id: userId }).whereRaw("sess->>'membershipId' in ?", [memberships]);
}

export async function countSessionsWithTenant(trx: Trx, tenantId: string, userId: string, now: Date): Promise<number> {
  const row = (await sessionsWithTenant(trx, tenantId, userId).where('expire', '>', now).count({ n: '*' }).first()) as {
    n: number;
  };
  return row.n;
}

/**
 * Staff end a person's sessions with their provider, and only those (a login may also belong to another
 * provider's customers): revoked through the person's memberships of the tenant, like revokeSessionsOfUser.
 */
export async function revokeSessionsWithTenant(trx: Trx, tenantId: string, userId: string, now: Date): Promise<number> {
  await trx('memberships').where({ tenant_id: tenantId, user_id: userId }).update({ sessions_valid_after: now });
  return sessionsWithTenant(trx, tenantId, userId).del();
}

/**
 * Ends the sessions acting through one membership (its customer disabled it), like revokeSessionsOfUser:
 * the rows go, and any session of that membership issued before `now` is refused from now on.
 */
export async function revokeSessionsOfMembership(
  trx: Trx,
  tenantId: string,
  userId: string,
  membershipId: string,
  now: Date,
): Promise<number> {
  await trx('memberships').where({ tenant_id: tenantId, id: membershipId }).update({ sessions_valid_after: now });
  return trx('session').where({ user_id: userId }).whereRaw("sess->>'membershipId' = ?", [membershipId]).del();
}

/** Ends the sessions a user opened with a login link (refreshed or disabled: those sessions are bound to it too). */
export async function endLinkSessionsOfUser(db: Db | Trx, userId: string): Promise<number> {
  return db('session').where({ user_id: userId }).whereRaw("sess->>'viaLink' = 'true'").del();
}

export type SessionSummary = {
  sid: string;
  createdAt: Date | null;
  lastSeenAt: Date | null;
  userAgent: string | null;
  expires: Date;
  /** a staff member's session viewing as this person ("view as"): the staff member's name and the view */
  viewedBy?: { name: string; customerId: string; startedAt: number; staffUserId: string };
};

type ViewAsField = { userId?: unknown; customerId?: unknown; startedAt?: unknown; endsAt?: unknown; byName?: unknown };

/** The view as this person a session holds, while it lasts: the session is theirs to see and end. */
function viewOn(sess: Record<string, unknown>, userId: string, now: Date) {
  const v = sess.viewAs as ViewAsField | undefined;
  if (!v || v.userId !== userId || typeof v.endsAt !== 'number' || v.endsAt <= now.getTime()) return undefined;
  return v;
}

/** A person's sessions, and the staff sessions viewing as them ("view as") while those views last. */
export async function listSessionsOfUser(db: Db | Trx, userId: string, now: Date): Promise<SessionSummary[]> {
  const rows: { sid: string; sess: Record<string, unknown>; expire: Date; user_id: string }[] = await db('session')
    .where((q) => q.where({ user_id: userId }).orWhereRaw("(sess->'viewAs'->>'userId') = ?", [userId]))
    .where('expire', '>', now)
    .select('sid', 'sess', 'expire', 'user_id');
  return rows
    .flatMap((r) => {
      const ms = (v: unknown) => (typeof v === 'number' ? new Date(v) : null);
      const own = r.user_id === userId;
      const view = own ? undefined : viewOn(r.sess, userId, now);
      if (!own && !view) return [];
      return [
        {
          sid: r.sid,
          createdAt: view ? ms(view.startedAt) : ms(r.sess.createdAt),
          lastSeenAt: ms(r.sess.lastSeenAt),
          userAgent: typeof r.sess.userAgent === 'string' ? r.sess.userAgent : null,
          expires: view ? new Date(view.endsAt as number) : r.expire,
          ...(view
            ? {
                viewedBy: {
                  name: String(view.byName ?? 'Staff'),
                  customerId: String(view.customerId),
                  startedAt: Number(view.startedAt),
                  staffUserId: r.user_id,
                },
              }
            : {}),
        },
      ];
    })
    .sort((a, b) => (b.lastSeenAt?.getTime() ?? 0) - (a.lastSeenAt?.getTime() ?? 0));
}

/**
 * Ends one of the user's own sessions; a session id of someone else's is simply not found. A staff session
 * viewing as the user loses the view, not the staff member's own sign-in: 'view' says that is what ended.
 */
export async function endOwnSession(db: Db | Trx, userId: string, sid: string): Promise<false | 'session' | 'view'> {
  if ((await db('session').where({ user_id: userId, sid }).del()) > 0) return 'session';
  const { rowCount } = await db.raw(
    `update session set sess = (sess::jsonb - 'viewAs')::json where sid = ? and (sess->'viewAs'->>'userId') = ?`,
    [sid, userId],
  );
  return rowCount > 0 ? 'view' : false;
}
