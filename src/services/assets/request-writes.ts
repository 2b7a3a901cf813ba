import type { Trx } from '../../db/index.js';
import { ConflictError } from '../../errors.js';
import { audit } from '../platform/index.js';
import type { Actor } from '../access/index.js';
import type { AssetRow } from './detail.js';

/** Writing asset requests, asset changes and their audit entries, for the requests, registration and the queue. */

/** How requests and audit entries name the person who acted. */
export const actorLabel = (actor: Actor) => `${actor.name} <${actor.email}>`;
/** Two people writing the same thing at once: a unique index refused the second. */
export const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

/** A request about the asset, by the actor; one pending per kind, so a second one is a conflict. */
export async function insertRequest(
  trx: Trx,
  actor: Actor,
  asset: AssetRow,
  fields: Record<string, unknown>,
): Promise<string> {
  const [row] = await trx('asset_requests')
    .insert({
      tenant_id: asset.tenant_id,
      asset_id: asset.id,
      customer_id: asset.customer_id,
      requested_by: actor.userId,
      requested_by_label: actorLabel(actor),
      ...fields,
    })
    .returning<{ id: string }[]>('id')
    .catch((err: unknown) => {
      // two people asking at the same moment: the one-pending-per-kind index decides
      if (isUniqueViolation(err)) throw new ConflictError('The same request about this asset is already pending.');
      throw err;
    });
  return row!.id;
}

/** What the actor did to the asset, applied at once and recorded as a finished request. */
export function decidedBy(trx: Trx, actor: Actor) {
  return { decided_by: actor.userId, decided_by_label: actorLabel(actor), decided_at: trx.fn.now() };
}

export async function updateAsset(trx: Trx, asset: AssetRow, fields: Record<string, unknown>) {
  await trx('assets')
    .where({ tenant_id: asset.tenant_id, id: asset.id })
    .update({ ...fields, updated_at: trx.fn.now() });
}

/** The audit entry of an asset change, naming the asset by its identifier. */
export function auditAsset(
  trx: Trx,
  actor: Actor | { system: string; tenantId: string },
  asset: AssetRow,
  action: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
) {
  return audit(trx, actor, {
    entityType: 'asset',
    entityId: asset.id,
    customerId: asset.customer_id,
    action,
    before: { identifier: asset.identifier, ...before },
    after: { identifier: asset.identifier, ...after },
  });
}
