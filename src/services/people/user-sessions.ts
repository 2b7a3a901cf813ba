import type { Db } from '../../db/index.js';
import { audit } from '../platform/index.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { countSessionsWithTenant, revokeSessionsWithTenant } from './sessions.js';
import { type CustomerUser, findUserInReach } from './users.js';

/**
 * Staff end a customer user's sessions ("End all sessions" on the user's page): every session the person
 * has with this provider ends at once, whatever is in flight. A login shared with another provider's
 * customers keeps its sessions there: those are not this tenant's to end.
 */

/** The user and how many live sessions they have with this provider, for the confirmation. */
export async function customerUserSessions(
  db: Db,
  actor: Actor,
  userId: string,
  opts: { now: Date; customerId: string },
): Promise<{ user: CustomerUser; count: number }> {
  authorize(actor, 'customer_user.manage');
  return asActor(db, actor, async (trx) => {
    const user = await findUserInReach(trx, actor, userId, opts.customerId);
    return { user, count: await countSessionsWithTenant(trx, actor.tenantId, user.id, opts.now) };
  });
}

export async function endCustomerUserSessions(
  db: Db,
  actor: Actor,
  userId: string,
  opts: { now: Date; customerId: string },
): Promise<{ user: CustomerUser; sessionsEnded: number }> {
  authorize(actor, 'customer_user.manage');
  return asActor(db, actor, async (trx) => {
    const user = await findUserInReach(trx, actor, userId, opts.customerId, true);
    const sessionsEnded = await revokeSessionsWithTenant(trx, actor.tenantId, user.id, opts.now);
    await audit(trx, actor, {
      entityType: 'user',
      entityId: user.id,
      action: 'user.sessions_ended',
      customerId: user.customerId,
      after: { sessionsEnded },
    });
    return { user, sessionsEnded };
  });
}
