import type { Db, Trx } from '../../db/index.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import {
  findAssetInScope,
  groupChoicesFor,
  pendingKindsOf,
  subjectOf,
  termsOf,
  withCurrentTerm,
  type AssetRow,
} from './detail.js';
import {
  activationKind,
  ASSET_STATUS_LABELS,
  availableActions,
  formatDay,
  actorLocale,
  conflictOf,
  refusalMessage,
  type AssetAction,
} from './rules.js';
import { msg, type Msg } from '../platform/i18n.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { deactivationDate, PLAN_LABELS, todayIn, type Day } from './subscription-rules.js';
import { auditAsset, decidedBy, insertRequest, updateAsset } from './request-writes.js';

/**
 * What customers ask of their assets: activation, renewal confirmation, deactivation, group moves.
 * Every change locks the asset row first, checks the action against availableActions, and writes
 * the audit log in the same transaction.
 */

/**
 * The asset, locked, with what the actor may do to it now; ConflictError when `action` is not among it.
 * With `customerId` (staff pages, whose URL names the customer) an asset of another customer is not found.
 */
export async function lockForAction(
  trx: Trx,
  actor: Actor,
  assetId: string,
  action: AssetAction,
  customerId?: string,
): Promise<AssetRow> {
  const asset = await findAssetInScope(trx, actor, assetId, { forUpdate: true });
  if (customerId !== undefined && asset.customer_id !== customerId) throw new NotFoundError();
  const pendingKinds = await pendingKindsOf(trx, asset);
  const subject = subjectOf(asset);
  const allowed = availableActions(subject, actor.role, pendingKinds);
  const wanted =
    action === 'activate' || action === 'reactivate'
      ? allowed.includes('activate') || allowed.includes('reactivate')
      : allowed.includes(action);
  if (!wanted) {
    const pendingOn = action === 'request_deactivation' ? await pendingDeactivationDay(trx, asset) : null;
    throw conflictOf(
      refusalMessage(action, subject, { deactivationOnLabel: formatDay(pendingOn, actorLocale(actor)) }),
    );
  }
  return asset;
}

async function pendingDeactivationDay(trx: Trx, asset: AssetRow): Promise<Day | null> {
  const row = await trx('asset_requests')
    .where({ tenant_id: asset.tenant_id, asset_id: asset.id, kind: 'deactivation', state: 'pending' })
    .first<{ effective_on: Day | null } | undefined>('effective_on');
  return row?.effective_on ?? null;
}

/** Activate an asset never active before, or reactivate one that had a term: it waits for the provider. */
export async function requestActivation(
  db: Db,
  actor: Actor,
  assetId: string,
): Promise<{ kind: 'activation' | 'reactivation' }> {
  authorize(actor, 'asset.request');
  return asActor(db, actor, async (trx) => {
    const asset = await lockForAction(trx, actor, assetId, 'activate');
    const kind = activationKind(subjectOf(asset));
    await updateAsset(trx, asset, { status: 'activation_pending' });
    await insertRequest(trx, actor, asset, { kind });
    await auditAsset(
      trx,
      actor,
      asset,
      `asset.${kind}_requested`,
      { status: asset.status },
      { status: 'activation_pending' },
    );
    return { kind };
  });
}

/** Acknowledges a term that renewed itself: the danger flag clears at once, no approval needed. */
export async function confirmRenewal(
  db: Db,
  actor: Actor,
  assetId: string,
): Promise<{ nextRenewalOn: Day | null; termEnd: Day | null }> {
  authorize(actor, 'asset.request');
  return asActor(db, actor, async (trx) => {
    const asset = await lockForAction(trx, actor, assetId, 'confirm_renewal');
    await updateAsset(trx, asset, { renewal_unconfirmed: false });
    await insertRequest(trx, actor, asset, {
      kind: 'renewal_confirmation',
      state: 'applied',
      ...decidedBy(trx, actor),
    });
    await auditAsset(
      trx,
      actor,
      asset,
      'asset.renewal_confirmed',
      { renewal_unconfirmed: true },
      { renewal_unconfirmed: false, term_end: asset.term_end },
    );
    return { nextRenewalOn: asset.next_renewal_on, termEnd: asset.term_end };
  });
}

export type DeactivationPreview = {
  asset: Pick<AssetRow, 'id' | 'identifier' | 'name' | 'plan' | 'term_end' | 'status'> & {
    planLabel: string;
    statusLabel: string;
  };
  effectiveOn: Day;
  effectiveOnLabel: string;
  /** why it cannot be requested now, or null */
  refusal: Msg | null;
};

/** The day a deactivation asked for now would take effect, shown before the person confirms. */
export async function deactivationPreview(
  db: Db,
  actor: Actor,
  assetId: string,
  now: Date,
): Promise<DeactivationPreview> {
  authorize(actor, 'asset.request');
  return asActor(db, actor, async (trx) => {
    const asset = await findAssetInScope(trx, actor, assetId);
    const subject = subjectOf(asset);
    const allowed = availableActions(subject, actor.role, await pendingKindsOf(trx, asset)).includes(
      'request_deactivation',
    );
    const pendingOn = allowed ? null : await pendingDeactivationDay(trx, asset);
    const effectiveOn = pendingOn ?? deactivationDate(termsOf(asset), todayIn(actor.timeZone, now));
    return {
      asset: {
        id: asset.id,
        identifier: asset.identifier,
        name: asset.name,
        plan: asset.plan,
        term_end: asset.term_end,
        status: asset.status,
        planLabel: PLAN_LABELS[asset.plan],
        statusLabel: ASSET_STATUS_LABELS[asset.status],
      },
      effectiveOn,
      effectiveOnLabel: formatDay(effectiveOn),
      refusal: allowed
        ? null
        : refusalMessage('request_deactivation', subject, {
            deactivationOnLabel: formatDay(pendingOn, actorLocale(actor)),
          }),
    };
  });
}

/** Asks for deactivation at the end of the contracted term; the asset stays active until then. */
export async function requestDeactivation(
  db: Db,
  actor: Actor,
  assetId: string,
  now: Date,
): Promise<{ effectiveOn: Day }> {
  authorize(actor, 'asset.request');
  return asActor(db, actor, async (trx) => {
    const asset = await lockForAction(trx, actor, assetId, 'request_deactivation');
    const effectiveOn = deactivationDate(termsOf(asset), todayIn(actor.timeZone, now));
    // a monthly term is derived only while the asset is active: from now on the stored term is the one it ends in
    const { term_start, term_end } = withCurrentTerm(asset, now);
    await updateAsset(trx, asset, { status: 'deactivation_pending', term_start, term_end });
    await insertRequest(trx, actor, asset, { kind: 'deactivation', effective_on: effectiveOn });
    await auditAsset(
      trx,
      actor,
      asset,
      'asset.deactivation_requested',
      { status: asset.status },
      { status: 'deactivation_pending', effective_on: effectiveOn },
    );
    return { effectiveOn };
  });
}

/** Withdraws a pending deactivation: the asset simply stays active. */
export async function cancelDeactivation(db: Db, actor: Actor, assetId: string): Promise<void> {
  authorize(actor, 'asset.request');
  await asActor(db, actor, async (trx) => {
    const asset = await lockForAction(trx, actor, assetId, 'cancel_deactivation');
    const effectiveOn = await pendingDeactivationDay(trx, asset);
    await trx('asset_requests')
      .where({ tenant_id: asset.tenant_id, asset_id: asset.id, kind: 'deactivation', state: 'pending' })
      .update({ state: 'cancelled', ...decidedBy(trx, actor) });
    await updateAsset(trx, asset, { status: 'active' });
    await auditAsset(
      trx,
      actor,
      asset,
      'asset.deactivation_cancelled',
      { status: asset.status, effective_on: effectiveOn },
      { status: 'active', effective_on: null },
    );
  });
}

export const MOVE_MESSAGES = {
  choose: msg('Choose one of the listed groups.'),
  same: msg('The asset is already in this group. Choose another one.'),
};

/** Moves an asset to another group of its customer, among the groups the actor reaches; applied at once. */
export async function moveAsset(db: Db, actor: Actor, assetId: string, groupId: string): Promise<{ path: string }> {
  authorize(actor, 'asset.request');
  return asActor(db, actor, async (trx) =>
    moveLocked(trx, actor, await lockForAction(trx, actor, assetId, 'move'), groupId),
  );
}

/**
 * Moves a locked asset (lockForAction) to another group of its customer among those the actor may
 * pick, applied at once and kept in its history: the customer's move and the staff's.
 */
export async function moveLocked(trx: Trx, actor: Actor, asset: AssetRow, groupId: string): Promise<{ path: string }> {
  const target = isUuid(groupId)
    ? (await groupChoicesFor(trx, actor, asset.customer_id)).find((g) => g.id === groupId)
    : undefined;
  if (!target) throw new ValidationError({ group_id: MOVE_MESSAGES.choose });
  if (target.id === asset.group_id) throw new ValidationError({ group_id: MOVE_MESSAGES.same });
  // the counters follow by trigger: same customer, another group
  await updateAsset(trx, asset, { group_id: target.id, group_path: target.path });
  await insertRequest(trx, actor, asset, {
    kind: 'group_move',
    state: 'applied',
    from_group_id: asset.group_id,
    to_group_id: target.id,
    ...decidedBy(trx, actor),
  });
  await auditAsset(
    trx,
    actor,
    asset,
    'asset.moved',
    { group_id: asset.group_id, group_path: asset.group_path },
    { group_id: target.id, group_path: target.path },
  );
  return { path: target.path };
}
