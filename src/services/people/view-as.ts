import type { Db } from '../../db/index.js';
import { ConflictError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { type Actor, asActor, authorize, VIEW_AS_MS } from '../access/index.js';
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
      throw new ConflictError(`${user.name} cannot sign in now, so there is nothing to view as them.`);
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

/**
 * Ends a view in the audit log, once: only the request that takes the view off its session row writes the
 * entry, so two requests that both find it lapsed, or an End clicked twice, leave one. The route then gives
 * the staff member's session a new id without the view.
 */
export async function endViewAs(
  db: Db,
  staff: Actor,
  sid: string,
  view: Pick<ViewAs, 'userId' | 'customerId' | 'startedAt'>,
  why: ViewAsEnd,
): Promise<boolean> {
  return asActor(db, staff, async (trx) => {
    const { rowCount } = await trx.raw(
      `update session set sess = (sess::jsonb - 'viewAs')::json
        where sid = ? and user_id = ? and sess->'viewAs'->>'userId' = ? and sess->'viewAs'->>'startedAt' = ?`,
      [sid, staff.userId, view.userId, String(view.startedAt)],
    );
    if (!rowCount) return false;
    await audit(trx, staff, {
      entityType: 'user',
      entityId: view.userId,
      action: 'user.view_as_ended',
      customerId: view.customerId,
      after: { reason: why, startedAt: new Date(view.startedAt).toISOString() },
    });
    return true;
  });
}

/** The view a viewed person's actor stands for, as endViewAs takes it. */
export function viewOf(viewed: Actor): Pick<ViewAs, 'userId' | 'customerId' | 'startedAt'> {
  if (!viewed.viewedBy || !viewed.customerId) throw new Error('not a view as someone');
  return { userId: viewed.userId, customerId: viewed.customerId, startedAt: viewed.viewedBy.startedAt };
}
