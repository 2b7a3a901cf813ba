import type { Db } from '../../db/index.js';
import { ConflictError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { type Actor, asActor, authorize, inTenant, VIEW_AS_MS } from '../access/index.js';
import type { ViewAs } from './session-actor.js';
import { type CustomerUser, findUserInReach } from './users.js';

/**
 * "View as": a tenant admin or support agent sees the portal as one of their customer's users, read only,
 * for 30 minutes. The session keeps the view (session.viewAs); every request reads it back with the session
 * and the staff member in one statement (session-actor.ts), so it ends the moment it no longer counts.
 * Start and end are in the customer's audit log under the staff member's name.
 */

/** Why a view ended, as the audit log keeps it. */
export type ViewAsEnd = 'ended' | 'signed_out' | 'expired' | 'no_longer_allowed' | 'ended_by_person';

/**
 * Starts a view as an active user of a customer in the staff member's reach (another tenant's user, or a
 * user of another customer than the URL's, is not found); a pending or disabled person has nothing to see.
 */
export async function startViewAs(
  db: Db,
  staff: Actor,
  customerId: string,
  userId: string,
  now: Date,
): Promise<{ user: CustomerUser; viewAs: ViewAs }> {
  authorize(staff, 'customer_user.view_as');
  return asActor(db, staff, async (trx) => {
    const user = await findUserInReach(trx, staff, userId, customerId);
    if (user.status !== 'active')
      throw new ConflictError('{name} cannot sign in now, so there is nothing to view as them.').withValues({
        name: user.name,
      });
    const startedAt = now.getTime();
    const viewAs: ViewAs = {
      userId: user.id,
      membershipId: user.membershipId,
      customerId: user.customerId,
      startedAt,
      endsAt: startedAt + VIEW_AS_MS,
      byName: staff.name,
    };
    await audit(trx, staff, {
      entityType: 'user',
      entityId: user.id,
      action: 'user.view_as_started',
      customerId: user.customerId,
      after: { name: user.name, endsAt: new Date(viewAs.endsAt).toISOString() },
    });
    return { user, viewAs };
  });
}

/** Whom the audit log names for a view: the staff member (a request's actor, or read from the session by the job). */
export type ViewingStaff = Pick<Actor, 'userId' | 'name' | 'email' | 'tenantId'>;

/**
 * Ends a view in the audit log, once: only the request (or job run) that takes the view off its session row
 * writes the entry, so two requests that both find it lapsed, an End clicked twice, or the lapsed-views job
 * racing the staff member's next request, leave one. A request that was in flight when the view came off
 * may store its copy of the session back, view and all: the entry already written then counts, and the
 * view is only taken off again. The route then gives the staff member's session a new id without the view.
 */
export async function endViewAs(
  db: Db,
  staff: ViewingStaff,
  sid: string,
  view: Pick<ViewAs, 'userId' | 'customerId' | 'startedAt'>,
  why: ViewAsEnd,
): Promise<boolean> {
  return inTenant(db, staff.tenantId, async (trx) => {
    const { rowCount } = await trx.raw(
      `update session set sess = (sess::jsonb - 'viewAs')::json
        where sid = ? and user_id = ? and sess->'viewAs'->>'userId' = ? and sess->'viewAs'->>'startedAt' = ?`,
      [sid, staff.userId, view.userId, String(view.startedAt)],
    );
    if (!rowCount) return false;
    const startedAt = new Date(view.startedAt).toISOString();
    const ended = await trx('audit_log')
      .where({ entity_type: 'user', entity_id: view.userId, action: 'user.view_as_ended', actor_user_id: staff.userId })
      .whereRaw("after->>'startedAt' = ?", [startedAt])
      .first('id');
    if (ended) return false;
    await audit(trx, staff, {
      entityType: 'user',
      entityId: view.userId,
      action: 'user.view_as_ended',
      customerId: view.customerId,
      after: { reason: why, startedAt },
    });
    return true;
  });
}

const UUID = "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'";
const viewUuid = (field: string) =>
  `case when s.sess->'viewAs'->>'${field}' ~* ${UUID} then (s.sess->'viewAs'->>'${field}')::uuid end`;
const viewMs = (field: string) =>
  `case when s.sess->'viewAs'->>'${field}' ~ '^[0-9]{1,15}$' then (s.sess->'viewAs'->>'${field}')::bigint end`;

/**
 * Views whose 30 minutes have passed, ended ('expired') without waiting for the staff member's next
 * request, which may never come (a closed tab): each through endViewAs, so one end entry per view whoever
 * comes first. `limit` a run; the next run takes the rest. Returns how many it ended.
 */
export async function endLapsedViews(db: Db, now: Date, limit = 500): Promise<number> {
  type Lapsed = { sid: string; user_id: string; name: string; email: string; tenant_id: string };
  const { rows } = await db.raw<{
    rows: (Lapsed & { viewed_user_id: string; customer_id: string; started_at: string })[];
  }>(
    `select s.sid, s.user_id, u.name, u.email, c.tenant_id, k.viewed_user_id, c.id as customer_id, k.started_at
       from session s
       cross join lateral (
         select ${viewUuid('userId')} as viewed_user_id, ${viewUuid('customerId')} as customer_id,
                ${viewMs('startedAt')} as started_at, ${viewMs('endsAt')} as ends_at
       ) k
       join users u on u.id = s.user_id
       join customers c on c.id = k.customer_id
      where s.sess->'viewAs' is not null and k.ends_at <= ? and k.viewed_user_id is not null
        and k.started_at is not null
      order by k.ends_at
      limit ?`,
    [now.getTime(), limit],
  );
  let ended = 0;
  for (const r of rows) {
    const staff: ViewingStaff = { userId: r.user_id, name: r.name, email: r.email, tenantId: r.tenant_id };
    const view = { userId: r.viewed_user_id, customerId: r.customer_id, startedAt: Number(r.started_at) };
    if (await endViewAs(db, staff, r.sid, view, 'expired')) ended++;
  }
  return ended;
}

/** The view a viewed person's actor stands for, as endViewAs takes it. */
export function viewOf(viewed: Actor): Pick<ViewAs, 'userId' | 'customerId' | 'startedAt'> {
  if (!viewed.viewedBy || !viewed.customerId) throw new Error('not a view as someone');
  return { userId: viewed.userId, customerId: viewed.customerId, startedAt: viewed.viewedBy.startedAt };
}
