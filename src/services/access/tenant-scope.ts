import type { Db, Trx } from '../../db/index.js';
import { inTenant } from '../../db/tenant.js';
import type { Actor } from './roles.js';

/**
 * Every service that acts for a signed-in person runs its queries through here: one transaction,
 * bound by row-level security to the actor's tenant.
 */
export function asActor<T>(db: Db | Trx, actor: Actor, fn: (trx: Trx) => Promise<T>): Promise<T> {
  return inTenant(db, actor.tenantId, fn);
}

export { inTenant };
