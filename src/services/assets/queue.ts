import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { findAssetInScope, type AssetRow } from './detail.js';
import { cursorParam } from '../platform/paging.js';
import {
  formatDay,
  QUEUED_KINDS,
  REASON_MAX,
  REQUEST_KIND_LABELS,
  type AssetStatus,
  type QueuedKind,
  type RequestState,
} from './rules.js';
import { formatDateTime } from '../platform/time-format.js';
import { msg } from '../platform/i18n.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { PLAN_LABELS, termFor, todayIn, type Day, type Plan } from './subscription-rules.js';
import { auditAsset, decidedBy, updateAsset } from './request-writes.js';

/** The provider's queue: pending activations and deactivations, and staff approving, rejecting or applying them. */

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

/**
 * Filters as typed in the query string, reduced to values the queue knows (anything else means
 * "all"); a bad cursor answers 400.
 */
export function queueFilterFrom(query: Record<string, unknown>): QueueFilter {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const kind = str(query.kind);
  return {
    kind: (QUEUED_KINDS as readonly string[]).includes(kind) ? (kind as QueuedKind) : '',
    customerId: isUuid(str(query.customer)) ? str(query.customer) : '',
    // the last request of the previous page: one that cannot be a request's answers 400
    after: cursorParam(query.after, (v) => (isUuid(v) ? v : null)) ?? '',
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
        '(r.requested_at, r.id) > ' +
          '(select p.requested_at, p.id from asset_requests p where p.tenant_id = ? and p.id = ?)',
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
    const state = { state: request.state, by: request.decided_by_label ?? '' };
    throw request.decided_by_label
      ? new ConflictError(
          'This request was already {state, select, approved {approved} rejected {rejected} cancelled {cancelled} applied {done} other {pending}} by {by}. The queue shows what is still pending.',
        ).withValues(state)
      : new ConflictError(
          'This request was already {state, select, approved {approved} rejected {rejected} cancelled {cancelled} applied {done} other {pending}}. The queue shows what is still pending.',
        ).withValues(state);
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
    const { before, after } = activation(asset, actor, now);
    await updateAsset(trx, asset, after);
    await decide(trx, actor, request, { state: 'approved' });
    await auditAsset(trx, actor, asset, `asset.${request.kind}_approved`, before, after);
    return { identifier: asset.identifier, termEnd: after.term_end };
  });
}

/**
 * An asset made active by staff (approving its request, or directly): its term starts today in the
 * actor's time zone; the fields before and after, for the change and its audit entry.
 */
export function activation(asset: AssetRow, actor: Actor, now: Date) {
  const term = termFor(asset.plan, todayIn(actor.timeZone, now));
  const after = {
    status: 'active' as const,
    term_start: term.termStart,
    term_end: term.termEnd,
    next_renewal_on: term.nextRenewalOn,
    renewal_unconfirmed: false,
  };
  const before = {
    status: asset.status,
    term_start: asset.term_start,
    term_end: asset.term_end,
    next_renewal_on: asset.next_renewal_on,
  };
  return { before, after };
}

export const REASON_MESSAGES = {
  missing: msg('Give the customer a reason: they will see it in the asset’s history.'),
  long: msg('Keep the reason to {max} characters or fewer.', { max: REASON_MAX }),
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
export const DEACTIVATED = { status: 'deactivated', next_renewal_on: null, renewal_unconfirmed: false } as const;

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
