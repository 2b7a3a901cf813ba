import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import {
  findAssetInScope,
  groupChoicesFor,
  lookUpIdentifier,
  pendingKindsOf,
  subjectOf,
  termsOf,
  type AssetRow,
} from './detail.js';
import {
  activationKind,
  ASSET_STATUS_LABELS,
  availableActions,
  formatDay,
  identifierProblem,
  NAME_MAX,
  QUEUED_KINDS,
  REASON_MAX,
  refusalOf,
  REQUEST_KIND_LABELS,
  REQUEST_STATE_LABELS,
  type AssetAction,
  type AssetStatus,
  type QueuedKind,
  type RequestState,
} from './rules.js';
import { audit } from '../platform/index.js';
import { formatDateTime } from '../platform/time-format.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize, groupsToPick, seesWholeCustomer } from '../access/index.js';
import { deactivationDate, PLAN_LABELS, PLANS, termFor, todayIn, type Day, type Plan } from './subscription-rules.js';

/**
 * What customers ask of their assets (activation, renewal confirmation, deactivation, group
 * moves) and how the provider's staff decide. Every change locks the asset row first, checks the
 * action against availableActions, and writes the audit log in the same transaction.
 */

const actorLabel = (actor: Actor) => `${actor.name} <${actor.email}>`;
const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

/** The asset, locked, with what the actor may do to it now; ConflictError when `action` is not among it. */
async function lockForAction(trx: Trx, actor: Actor, assetId: string, action: AssetAction): Promise<AssetRow> {
  const asset = await findAssetInScope(trx, actor, assetId, { forUpdate: true });
  const pendingKinds = await pendingKindsOf(trx, asset);
  const subject = subjectOf(asset);
  const allowed = availableActions(subject, actor.role, pendingKinds);
  const wanted =
    action === 'activate' || action === 'reactivate'
      ? allowed.includes('activate') || allowed.includes('reactivate')
      : allowed.includes(action);
  if (!wanted) {
    const pendingOn = action === 'request_deactivation' ? await pendingDeactivationDay(trx, asset) : null;
    throw new ConflictError(refusalOf(action, subject, { deactivationOnLabel: formatDay(pendingOn) }));
  }
  return asset;
}

async function pendingDeactivationDay(trx: Trx, asset: AssetRow): Promise<Day | null> {
  const row = await trx('asset_requests')
    .where({ tenant_id: asset.tenant_id, asset_id: asset.id, kind: 'deactivation', state: 'pending' })
    .first<{ effective_on: Day | null } | undefined>('effective_on');
  return row?.effective_on ?? null;
}

async function insertRequest(
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
function decidedBy(trx: Trx, actor: Actor) {
  return { decided_by: actor.userId, decided_by_label: actorLabel(actor), decided_at: trx.fn.now() };
}

async function updateAsset(trx: Trx, asset: AssetRow, fields: Record<string, unknown>) {
  await trx('assets')
    .where({ tenant_id: asset.tenant_id, id: asset.id })
    .update({ ...fields, updated_at: trx.fn.now() });
}

function auditAsset(
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
  refusal: string | null;
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
        : refusalOf('request_deactivation', subject, { deactivationOnLabel: formatDay(pendingOn) }),
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
    await updateAsset(trx, asset, { status: 'deactivation_pending' });
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
  choose: 'Choose one of the listed groups.',
  same: 'The asset is already in this group. Choose another one.',
};

/** Moves an asset to another group of its customer, among the groups the actor reaches; applied at once. */
export async function moveAsset(db: Db, actor: Actor, assetId: string, groupId: string): Promise<{ path: string }> {
  authorize(actor, 'asset.request');
  return asActor(db, actor, async (trx) => {
    const asset = await lockForAction(trx, actor, assetId, 'move');
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
  });
}

export type NewDeviceForm = { identifier: string; name: string; groupId: string; plan: string };
export type NewDeviceResult = { assetId: string; created: boolean };

/** Said when an identifier belongs to a customer or group the person does not reach; nothing else is revealed. */
export function registeredElsewhereMessage(actor: Actor): string {
  return `This device is registered to another account. If it should be yours, contact ${actor.tenantName}.`;
}

/**
 * "Request activation" of a device: an identifier already in the actor's reach leads to that
 * asset (reactivation is there); one registered elsewhere is refused plainly; a new one becomes
 * an asset waiting for activation, with its pending request.
 */
export async function requestActivationOfNewDevice(
  db: Db,
  actor: Actor,
  form: NewDeviceForm,
): Promise<NewDeviceResult> {
  authorize(actor, 'asset.request');
  const identifier = form.identifier.trim();
  const name = form.name.trim();
  const errors: Record<string, string> = {};
  const identifierError = identifierProblem(identifier);
  if (identifierError) errors.identifier = identifierError;
  if (name.length > NAME_MAX) errors.name = `Keep the name to ${NAME_MAX} characters or fewer.`;
  if (!(PLANS as readonly string[]).includes(form.plan)) errors.plan = 'Choose a plan.';
  return asActor(db, actor, async (trx) => {
    if (!errors.identifier) {
      const existing = await lookUpIdentifier(trx, actor, identifier);
      if (existing.found === 'in_reach') return { assetId: existing.asset.id, created: false };
      if (existing.found === 'elsewhere') errors.identifier = registeredElsewhereMessage(actor);
    }
    const group = await groupForNewDevice(trx, actor, form.groupId);
    if (group === undefined)
      errors.group_id = seesWholeCustomer(actor)
        ? 'Choose one of the listed groups, or no group.'
        : 'Choose one of your groups.';
    if (Object.keys(errors).length) throw new ValidationError(errors);
    const plan = form.plan as Plan;
    const [row] = await trx('assets')
      .insert({
        tenant_id: actor.tenantId,
        customer_id: group?.customer_id ?? actor.customerId,
        group_id: group?.id ?? null,
        group_path: group?.path ?? '',
        identifier,
        name,
        plan,
        status: 'activation_pending',
      })
      .returning<AssetRow[]>([
        'id',
        'tenant_id',
        'customer_id',
        'group_id',
        'group_path',
        'identifier',
        'name',
        'status',
        'plan',
        'term_start',
      ])
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw new ValidationError({ identifier: 'This device was registered a moment ago. Search for it again.' });
        throw err;
      });
    const asset = row!;
    await insertRequest(trx, actor, asset, { kind: 'activation' });
    await audit(trx, actor, {
      entityType: 'asset',
      entityId: asset.id,
      customerId: asset.customer_id,
      action: 'asset.activation_requested',
      after: { identifier, name, group_path: asset.group_path, plan, status: 'activation_pending' },
    });
    return { assetId: asset.id, created: true };
  });
}

/** The chosen group if the actor may register devices in it; null for "no group" (company admins); undefined when refused. */
async function groupForNewDevice(
  trx: Trx,
  actor: Actor,
  groupId: string,
): Promise<{ id: string; customer_id: string; path: string } | null | undefined> {
  if (!groupId) return seesWholeCustomer(actor) && actor.customerId ? null : undefined;
  if (!isUuid(groupId)) return undefined;
  return groupsToPick(trx, actor, 'g')
    .where('g.id', groupId)
    .first<{ id: string; customer_id: string; path: string } | undefined>('g.id', 'g.customer_id', 'g.path');
}

// ---- the provider's queue ----

export const QUEUE_PAGE_SIZE = 50;

export type QueueRow = {
  id: string;
  kind: QueuedKind;
  kindLabel: string;
  requestedBy: string;
  requestedAtLabel: string;
  effectiveOn: Day | null;
  effectiveOnLabel: string;
  assetId: string;
  identifier: string;
  assetName: string;
  plan: Plan;
  planLabel: string;
  customerId: string;
  customerTitle: string;
  accountId: string;
};
export type QueueFilter = { kind: QueuedKind | ''; customerId: string; after: string };
export type Queue = QueueFilter & {
  rows: QueueRow[];
  nextAfter: string | null;
  customers: { id: string; title: string }[];
};

/** Filters as typed in the query string, reduced to values the queue knows (anything else means "all"). */
export function queueFilterFrom(query: Record<string, unknown>): QueueFilter {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const kind = str(query.kind);
  return {
    kind: (QUEUED_KINDS as readonly string[]).includes(kind) ? (kind as QueuedKind) : '',
    customerId: isUuid(str(query.customer)) ? str(query.customer) : '',
    after: isUuid(str(query.after)) ? str(query.after) : '',
  };
}

/**
 * The tenant's pending requests, oldest first, by keyset on (requested_at, id); `after` is the
 * id of the last request of the previous page, so the cursor keeps the database's full precision.
 */
export async function listPendingRequests(db: Db, actor: Actor, filter: QueueFilter): Promise<Queue> {
  authorize(actor, 'request.review');
  return asActor(db, actor, async (trx) => {
    const q = trx('asset_requests as r')
      .join('assets as a', function () {
        this.on('a.tenant_id', 'r.tenant_id').andOn('a.id', 'r.asset_id');
      })
      .join('customers as c', function () {
        this.on('c.tenant_id', 'r.tenant_id').andOn('c.id', 'r.customer_id');
      })
      .where({ 'r.tenant_id': actor.tenantId, 'r.state': 'pending' })
      .whereIn('r.kind', QUEUED_KINDS);
    if (filter.kind) q.where('r.kind', filter.kind);
    if (filter.customerId) q.where('r.customer_id', filter.customerId);
    if (filter.after) {
      q.whereRaw(
        '(r.requested_at, r.id) > (select p.requested_at, p.id from asset_requests p where p.tenant_id = ? and p.id = ?)',
        [actor.tenantId, filter.after],
      );
    }
    const rows: {
      id: string;
      kind: QueuedKind;
      requested_by_label: string;
      requested_at: Date;
      effective_on: Day | null;
      asset_id: string;
      identifier: string;
      name: string;
      plan: Plan;
      customer_id: string;
      title: string;
      account_id: string;
    }[] = await q
      .orderBy([{ column: 'r.requested_at' }, { column: 'r.id' }])
      .limit(QUEUE_PAGE_SIZE + 1)
      .select(
        'r.id',
        'r.kind',
        'r.requested_by_label',
        'r.requested_at',
        'r.effective_on',
        'r.asset_id',
        'a.identifier',
        'a.name',
        'a.plan',
        'r.customer_id',
        'c.title',
        'c.account_id',
      );
    const page = rows.slice(0, QUEUE_PAGE_SIZE);
    // the customers with something pending: few rows, read from the queue's own index range
    const customers: { id: string; title: string }[] = await trx('customers as c')
      .where('c.tenant_id', actor.tenantId)
      .whereIn(
        'c.id',
        trx('asset_requests').where({ tenant_id: actor.tenantId, state: 'pending' }).distinct('customer_id'),
      )
      .orderBy([{ column: 'c.title' }, { column: 'c.id' }])
      .select('c.id', 'c.title');
    return {
      ...filter,
      rows: page.map((r) => ({
        id: r.id,
        kind: r.kind,
        kindLabel: REQUEST_KIND_LABELS[r.kind],
        requestedBy: r.requested_by_label,
        requestedAtLabel: formatDateTime(r.requested_at, actor.timeZone),
        effectiveOn: r.effective_on,
        effectiveOnLabel: formatDay(r.effective_on),
        assetId: r.asset_id,
        identifier: r.identifier,
        assetName: r.name,
        plan: r.plan,
        planLabel: PLAN_LABELS[r.plan],
        customerId: r.customer_id,
        customerTitle: r.title,
        accountId: r.account_id,
      })),
      nextAfter: rows.length > QUEUE_PAGE_SIZE ? page[page.length - 1]!.id : null,
      customers,
    };
  });
}

type RequestRow = {
  id: string;
  tenant_id: string;
  asset_id: string;
  kind: string;
  state: RequestState;
  effective_on: Day | null;
  decided_by_label: string | null;
};

/** The pending request and its asset, both locked (asset first, as every change here locks them). */
async function lockPendingRequest(
  trx: Trx,
  actor: Actor,
  requestId: string,
): Promise<{ request: RequestRow; asset: AssetRow }> {
  if (!isUuid(requestId)) throw new NotFoundError();
  const cols = ['id', 'tenant_id', 'asset_id', 'kind', 'state', 'effective_on', 'decided_by_label'];
  const found = await trx('asset_requests')
    .where({ tenant_id: actor.tenantId, id: requestId })
    .first<RequestRow | undefined>(cols);
  if (!found) throw new NotFoundError();
  const asset = await findAssetInScope(trx, actor, found.asset_id, { forUpdate: true });
  const request = (await trx('asset_requests')
    .where({ tenant_id: actor.tenantId, id: requestId })
    .forUpdate()
    .first<RequestRow>(cols))!;
  if (request.state !== 'pending') {
    const by = request.decided_by_label ? ` by ${request.decided_by_label}` : '';
    throw new ConflictError(
      `This request was already ${REQUEST_STATE_LABELS[request.state].toLowerCase()}${by}. The queue shows what is still pending.`,
    );
  }
  return { request, asset };
}

function decide(trx: Trx, actor: Actor, request: RequestRow, fields: Record<string, unknown>) {
  return trx('asset_requests')
    .where({ tenant_id: request.tenant_id, id: request.id })
    .update({ ...fields, ...decidedBy(trx, actor) });
}

/** Approves an activation or reactivation: the asset becomes active and its term starts today. */
export async function approveRequest(
  db: Db,
  actor: Actor,
  requestId: string,
  now: Date,
): Promise<{ identifier: string; termEnd: Day }> {
  authorize(actor, 'request.review');
  return asActor(db, actor, async (trx) => {
    const { request, asset } = await lockPendingRequest(trx, actor, requestId);
    if (request.kind !== 'activation' && request.kind !== 'reactivation') {
      throw new ConflictError(
        'A deactivation is not approved: it applies on its date, or now with “Apply now”; or reject it.',
      );
    }
    const term = termFor(asset.plan, todayIn(actor.timeZone, now));
    const after = {
      status: 'active',
      term_start: term.termStart,
      term_end: term.termEnd,
      next_renewal_on: term.nextRenewalOn,
      renewal_unconfirmed: false,
    };
    await updateAsset(trx, asset, after);
    await decide(trx, actor, request, { state: 'approved' });
    const before = {
      status: asset.status,
      term_start: asset.term_start,
      term_end: asset.term_end,
      next_renewal_on: asset.next_renewal_on,
    };
    await auditAsset(trx, actor, asset, `asset.${request.kind}_approved`, before, after);
    return { identifier: asset.identifier, termEnd: term.termEnd };
  });
}

export const REASON_MESSAGES = {
  missing: 'Give the customer a reason: they will see it in the asset’s history.',
  long: `Keep the reason to ${REASON_MAX} characters or fewer.`,
};

/**
 * Rejects a pending request with a reason the customer sees: an activation puts the asset back
 * where it was (inactive or deactivated), a deactivation leaves it active.
 */
export async function rejectRequest(
  db: Db,
  actor: Actor,
  requestId: string,
  reasonInput: string,
): Promise<{ identifier: string; kindLabel: string }> {
  authorize(actor, 'request.review');
  const reason = reasonInput.trim();
  return asActor(db, actor, async (trx) => {
    // a request outside reach is 404 before its form is judged
    const { request, asset } = await lockPendingRequest(trx, actor, requestId);
    if (!reason) throw new ValidationError({ reason: REASON_MESSAGES.missing });
    if (reason.length > REASON_MAX) throw new ValidationError({ reason: REASON_MESSAGES.long });
    let status: AssetStatus;
    if (request.kind === 'deactivation') status = 'active';
    else if (request.kind === 'activation') status = 'inactive';
    else status = await statusBeforeReactivation(trx, asset);
    if (asset.status !== status) await updateAsset(trx, asset, { status });
    await decide(trx, actor, request, { state: 'rejected', reason });
    await auditAsset(trx, actor, asset, `asset.${request.kind}_rejected`, { status: asset.status }, { status, reason });
    return { identifier: asset.identifier, kindLabel: REQUEST_KIND_LABELS[request.kind as QueuedKind] ?? 'Request' };
  });
}

/** A reactivation starts from inactive or deactivated; the request's audit entry remembers which. */
async function statusBeforeReactivation(trx: Trx, asset: AssetRow): Promise<AssetStatus> {
  const entry = await trx('audit_log')
    .where({
      tenant_id: asset.tenant_id,
      entity_type: 'asset',
      entity_id: asset.id,
      action: 'asset.reactivation_requested',
    })
    .orderBy('id', 'desc')
    .first<{ before: { status?: string } | null } | undefined>('before');
  return entry?.before?.status === 'inactive' ? 'inactive' : 'deactivated';
}

/** The deactivated state: the subscription ends, so nothing renews any more. */
const DEACTIVATED = { status: 'deactivated', next_renewal_on: null, renewal_unconfirmed: false } as const;

/** Staff apply a pending deactivation now rather than on its date. */
export async function applyDeactivation(db: Db, actor: Actor, requestId: string): Promise<{ identifier: string }> {
  authorize(actor, 'request.review');
  return asActor(db, actor, async (trx) => {
    const { request, asset } = await lockPendingRequest(trx, actor, requestId);
    if (request.kind !== 'deactivation')
      throw new ConflictError('Only a deactivation can be applied; approve or reject an activation.');
    await updateAsset(trx, asset, DEACTIVATED);
    await decide(trx, actor, request, { state: 'applied' });
    const before = {
      status: asset.status,
      next_renewal_on: asset.next_renewal_on,
      renewal_unconfirmed: asset.renewal_unconfirmed,
    };
    await auditAsset(trx, actor, asset, 'asset.deactivation_applied', before, {
      ...DEACTIVATED,
      effective_on: request.effective_on,
    });
    return { identifier: asset.identifier };
  });
}

export const SCHEDULED_DEACTIVATION_LABEL = 'Scheduled deactivation';
const DUE_BATCH = 2000;

/**
 * Applies every pending deactivation whose day has come (effective_on <= today), in every tenant:
 * for the daily job. Set-based, in batches that skip rows someone else holds; running it again
 * finds nothing left to do. Returns how many assets it deactivated.
 */
export async function applyDueDeactivations(db: Db, today: Day): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await db.transaction(async (trx) => {
      // assets and requests are locked together, skipping any a person is changing right now
      const { rows } = await trx.raw<{ rows: { requests: number; n: number }[] }>(
        `with due as (
           select r.tenant_id, r.id as request_id, r.asset_id, r.effective_on,
                  a.customer_id, a.identifier, a.status, a.next_renewal_on, a.renewal_unconfirmed
             from asset_requests r join assets a on a.tenant_id = r.tenant_id and a.id = r.asset_id
            where r.state = 'pending' and r.kind = 'deactivation' and r.effective_on <= ?::date
            order by r.effective_on, r.tenant_id, r.id
            limit ? for update of r, a skip locked
         ), requests as (
           update asset_requests r set state = 'applied', decided_at = now(), decided_by = null, decided_by_label = ?
             from due where r.tenant_id = due.tenant_id and r.id = due.request_id
           returning r.id
         ), assets_done as (
           update assets a set status = 'deactivated', next_renewal_on = null, renewal_unconfirmed = false, updated_at = now()
             from due where a.tenant_id = due.tenant_id and a.id = due.asset_id and due.status = 'deactivation_pending'
           returning a.id
         ), logged as (
           insert into audit_log (tenant_id, actor_user_id, actor_label, customer_id, entity_type, entity_id, action, before, after)
           select d.tenant_id, null, ?, d.customer_id, 'asset', d.asset_id::text, 'asset.deactivation_applied',
                  jsonb_build_object('identifier', d.identifier, 'status', d.status, 'next_renewal_on', d.next_renewal_on, 'renewal_unconfirmed', d.renewal_unconfirmed),
                  jsonb_build_object('identifier', d.identifier, 'status', 'deactivated', 'next_renewal_on', null, 'renewal_unconfirmed', false, 'effective_on', d.effective_on)
             from due d where d.status = 'deactivation_pending'
           returning 1
         )
         select (select count(*) from requests)::int as requests, (select count(*) from assets_done)::int as n`,
        [today, DUE_BATCH, SCHEDULED_DEACTIVATION_LABEL, SCHEDULED_DEACTIVATION_LABEL],
      );
      return rows[0]!;
    });
    total += done.n;
    if (done.requests < DUE_BATCH) return total;
  }
}
