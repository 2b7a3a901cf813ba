import type { Db, Trx } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import {
  ASSET_STATUS_LABELS,
  availableActions,
  formatDay,
  groupDepths,
  groupOptionLabel,
  isIdentifier,
  REQUEST_KIND_LABELS,
  REQUEST_STATE_LABELS,
  type ActionSubject,
  type AssetAction,
  type AssetStatus,
  type RequestKind,
  type RequestState,
} from './rules.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize, groupsToPick, scopeAssets, staffUserIds } from '../access/index.js';
import {
  currentTerm,
  PLAN_LABELS,
  RENEWAL_STATE_TEXT,
  renewalState,
  todayIn,
  type Day,
  type Plan,
  type RenewalState,
} from './subscription-rules.js';
import { formatDateTime } from '../platform/time-format.js';
import { msg, type Msg } from '../platform/i18n.js';
import { personShownTo } from '../people/rules.js';

/** Reading one asset: its page, the groups it may move to, and the look-up by device identifier. */

export type AssetRow = {
  id: string;
  tenant_id: string;
  customer_id: string;
  group_id: string | null;
  group_path: string;
  identifier: string;
  name: string;
  status: AssetStatus;
  plan: Plan;
  term_start: Day | null;
  term_end: Day | null;
  next_renewal_on: Day | null;
  renewal_unconfirmed: boolean;
  last_latitude: number | null;
  last_longitude: number | null;
  last_located_at: Date | null;
};

/** The columns the asset rules read (rules.ts): what a bulk action loads of each asset. */
export const ASSET_RULE_COLUMNS = [
  'id',
  'customer_id',
  'group_id',
  'group_path',
  'identifier',
  'name',
  'status',
  'plan',
  'term_start',
  'term_end',
  'next_renewal_on',
  'renewal_unconfirmed',
] as const;

/** Every column of an AssetRow. */
export const ASSET_COLUMNS = [
  'tenant_id',
  ...ASSET_RULE_COLUMNS,
  'last_latitude',
  'last_longitude',
  'last_located_at',
] as const;

/** The asset if the actor reaches it (404 otherwise); locked for the rest of the transaction when asked. */
export async function findAssetInScope(
  trx: Trx,
  actor: Actor,
  id: unknown,
  opts: { forUpdate?: boolean } = {},
): Promise<AssetRow> {
  if (!isUuid(id)) throw new NotFoundError();
  const q = scopeAssets(trx, actor, 'a')
    .where('a.id', id)
    .first<AssetRow | undefined>(ASSET_COLUMNS.map((c) => `a.${c}`));
  if (opts.forUpdate) q.forUpdate();
  const asset = await q;
  if (!asset) throw new NotFoundError();
  return asset;
}

export async function pendingKindsOf(trx: Trx, asset: Pick<AssetRow, 'tenant_id' | 'id'>): Promise<RequestKind[]> {
  return trx('asset_requests')
    .where({ tenant_id: asset.tenant_id, asset_id: asset.id, state: 'pending' })
    .pluck('kind');
}

export function subjectOf(asset: AssetRow): ActionSubject {
  return {
    status: asset.status,
    hasPastTerm: asset.term_start !== null,
    renewalUnconfirmed: asset.renewal_unconfirmed,
  };
}

/**
 * The asset with the term it is in at `now` (subscription-rules' currentTerm: a monthly plan's
 * term is the calendar month, not rewritten each month), for whatever shows or keeps the term.
 */
export function withCurrentTerm<A extends AssetRow>(asset: A, now: Date): A {
  const term = currentTerm(
    { plan: asset.plan, status: asset.status, termStart: asset.term_start, termEnd: asset.term_end },
    todayIn('UTC', now),
  );
  return { ...asset, term_start: term.termStart, term_end: term.termEnd };
}

export function termsOf(asset: AssetRow) {
  return {
    plan: asset.plan,
    termEnd: asset.term_end,
    nextRenewalOn: asset.next_renewal_on,
    renewalUnconfirmed: asset.renewal_unconfirmed,
  };
}

export type GroupChoice = { id: string; customerId: string; path: string; label: string };

/**
 * The groups an actor may put an asset of `customerId` in: every group of that customer for a
 * company admin; for a group admin only the groups they reach. Ordered by path, so sub-groups
 * follow their parent.
 */
export async function groupChoicesFor(trx: Trx, actor: Actor, customerId: string): Promise<GroupChoice[]> {
  const rows: { id: string; parent_id: string | null; customer_id: string; name: string; path: string }[] =
    await groupsToPick(trx, actor, 'g')
      .where('g.customer_id', customerId)
      .orderBy([{ column: 'g.path' }, { column: 'g.id' }])
      .select('g.id', 'g.parent_id', 'g.customer_id', 'g.name', 'g.path');
  const depths = groupDepths(rows);
  return rows.map((g) => ({
    id: g.id,
    customerId: g.customer_id,
    path: g.path,
    label: groupOptionLabel(g.name, depths.get(g.id) ?? 0),
  }));
}

export type RequestView = {
  id: string;
  kind: RequestKind;
  kindLabel: string;
  state: RequestState;
  stateLabel: string;
  requestedBy: string;
  requestedAt: Date;
  requestedAtLabel: string;
  effectiveOn: Day | null;
  effectiveOnLabel: string;
  decidedBy: string | null;
  decidedAt: Date | null;
  decidedAtLabel: string;
  reason: string | null;
  fromGroup: string | null;
  toGroup: string | null;
};

/** How many past requests the asset page lists; older ones stay in the audit log. */
export const HISTORY_LIMIT = 100;

/**
 * The renewal as the list shows it while the subscription runs; an asset that is not active, or
 * whose deactivation is pending, does not renew (unless a renewal already happened and awaits confirmation).
 */
function renewalOf(asset: AssetRow, today: Day, pendingDeactivation: RequestView | null): AssetPage['renewal'] {
  const none = (text: Msg) => ({ state: 'none' as const, text, day: null, dayLabel: '' });
  if (asset.status === 'deactivation_pending' && !asset.renewal_unconfirmed) {
    // the page shows the day in its reader's language (`day` given again where it is translated)
    return none(
      pendingDeactivation?.effectiveOn
        ? msg('None: the subscription ends with its deactivation on {day}', {
            day: pendingDeactivation.effectiveOnLabel,
          })
        : msg('None: a deactivation is pending'),
    );
  }
  if (asset.status !== 'active' && asset.status !== 'deactivation_pending')
    return none(msg('None: the asset is not active'));
  const state = renewalState(termsOf(asset), today);
  return {
    state,
    text: RENEWAL_STATE_TEXT[state],
    day: asset.next_renewal_on,
    dayLabel: formatDay(asset.next_renewal_on),
  };
}

async function requestsOf(
  trx: Trx,
  actor: Actor,
  asset: AssetRow,
  opts: { pendingOnly?: boolean } = {},
): Promise<RequestView[]> {
  const staff = staffUserIds(trx, asset.tenant_id);
  const rows: {
    id: string;
    kind: RequestKind;
    state: RequestState;
    requested_by_label: string;
    requested_at: Date;
    effective_on: Day | null;
    decided_by_label: string | null;
    decided_at: Date | null;
    reason: string | null;
    from_path: string | null;
    to_path: string | null;
    requested_by_staff: boolean;
    decided_by_staff: boolean;
  }[] = await trx('asset_requests as r')
    .leftJoin('groups as fg', function () {
      this.on('fg.tenant_id', 'r.tenant_id').andOn('fg.id', 'r.from_group_id');
    })
    .leftJoin('groups as tg', function () {
      this.on('tg.tenant_id', 'r.tenant_id').andOn('tg.id', 'r.to_group_id');
    })
    .where({ 'r.tenant_id': asset.tenant_id, 'r.asset_id': asset.id })
    .modify((q) => {
      if (opts.pendingOnly) q.where('r.state', 'pending');
    })
    .orderBy([
      { column: 'r.requested_at', order: 'desc' },
      { column: 'r.id', order: 'desc' },
    ])
    .limit(HISTORY_LIMIT)
    .select(
      'r.id',
      'r.kind',
      'r.state',
      'r.requested_by_label',
      'r.requested_at',
      'r.effective_on',
      'r.decided_by_label',
      'r.decided_at',
      'r.reason',
      'fg.path as from_path',
      'tg.path as to_path',
      trx.raw('coalesce(r.requested_by = any(array(?)), false) as requested_by_staff', [staff]),
      trx.raw('coalesce(r.decided_by = any(array(?)), false) as decided_by_staff', [staff]),
    );
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    kindLabel: REQUEST_KIND_LABELS[r.kind],
    state: r.state,
    stateLabel: REQUEST_STATE_LABELS[r.state],
    requestedBy: personShownTo(actor, r.requested_by_label, r.requested_by_staff),
    requestedAt: r.requested_at,
    requestedAtLabel: formatDateTime(r.requested_at, actor.timeZone),
    effectiveOn: r.effective_on,
    effectiveOnLabel: formatDay(r.effective_on),
    decidedBy: r.decided_by_label && personShownTo(actor, r.decided_by_label, r.decided_by_staff),
    decidedAt: r.decided_at,
    decidedAtLabel: formatDateTime(r.decided_at, actor.timeZone),
    reason: r.reason,
    fromGroup: r.from_path,
    toGroup: r.to_path,
  }));
}

export type AssetPage = {
  asset: AssetRow & { statusLabel: string; planLabel: string; termStartLabel: string; termEndLabel: string };
  customer: { id: string; title: string; account_id: string };
  renewal: { state: RenewalState; text: Msg; day: Day | null; dayLabel: string };
  location: { latitude: number; longitude: number; at: Date | null; atLabel: string } | null;
  pending: RequestView[];
  /** the pending deactivation, for "takes effect on" */
  pendingDeactivation: RequestView | null;
  history: RequestView[];
  actions: AssetAction[];
  groupChoices: GroupChoice[];
  today: Day;
};

/**
 * One asset as its page shows it, with what the actor may do with it now; 404 outside their reach.
 * Staff read it on the customer's staff pages: `customerId` is the customer the URL names, and an
 * asset of another customer is not found there.
 */
export async function getAsset(
  db: Db,
  actor: Actor,
  id: string,
  now: Date,
  opts: { customerId?: string } = {},
): Promise<AssetPage> {
  authorize(actor, opts.customerId === undefined ? 'asset.view' : 'asset.staff_view');
  return asActor(db, actor, async (trx) => {
    const asset = withCurrentTerm(await findAssetInScope(trx, actor, id), now);
    if (opts.customerId !== undefined && asset.customer_id !== opts.customerId) throw new NotFoundError();
    const today = todayIn(actor.timeZone, now);
    const customer = await trx('customers')
      .where({ tenant_id: asset.tenant_id, id: asset.customer_id })
      .first<AssetPage['customer']>('id', 'title', 'account_id');
    const history = await requestsOf(trx, actor, asset);
    const pending = await requestsOf(trx, actor, asset, { pendingOnly: true });
    const actions = availableActions(
      subjectOf(asset),
      actor.role,
      pending.map((r) => r.kind),
    );
    const groupChoices = actions.includes('move') ? await groupChoicesFor(trx, actor, asset.customer_id) : [];
    const pendingDeactivation = pending.find((r) => r.kind === 'deactivation') ?? null;
    return {
      asset: {
        ...asset,
        statusLabel: ASSET_STATUS_LABELS[asset.status],
        planLabel: PLAN_LABELS[asset.plan],
        termStartLabel: formatDay(asset.term_start),
        termEndLabel: formatDay(asset.term_end),
      },
      customer,
      renewal: renewalOf(asset, today, pendingDeactivation),
      location:
        asset.last_latitude !== null && asset.last_longitude !== null
          ? {
              latitude: asset.last_latitude,
              longitude: asset.last_longitude,
              at: asset.last_located_at,
              atLabel: formatDateTime(asset.last_located_at, actor.timeZone),
            }
          : null,
      pending,
      pendingDeactivation,
      history,
      actions,
      groupChoices,
      today,
    };
  });
}

export type IdentifierLookup =
  | {
      found: 'in_reach';
      asset: { id: string; identifier: string; name: string; status: AssetStatus; statusLabel: string };
    }
  /** registered in this tenant, to a customer or group the actor does not reach: nothing more is told */
  | { found: 'elsewhere' }
  | { found: 'none' };

/** Whether a device identifier is registered, and whether the actor may see it. */
export async function findByIdentifier(db: Db, actor: Actor, identifier: string): Promise<IdentifierLookup> {
  authorize(actor, 'asset.view');
  if (!isIdentifier(identifier)) return { found: 'none' };
  return asActor(db, actor, (trx) => lookUpIdentifier(trx, actor, identifier));
}

export async function lookUpIdentifier(trx: Trx, actor: Actor, identifier: string): Promise<IdentifierLookup> {
  const mine = await scopeAssets(trx, actor, 'a')
    .where('a.identifier', identifier)
    .first<{ id: string; identifier: string; name: string; status: AssetStatus } | undefined>(
      'a.id',
      'a.identifier',
      'a.name',
      'a.status',
    );
  if (mine) return { found: 'in_reach', asset: { ...mine, statusLabel: ASSET_STATUS_LABELS[mine.status] } };
  const anywhere = await trx('assets').where({ tenant_id: actor.tenantId, identifier }).first('id');
  return anywhere ? { found: 'elsewhere' } : { found: 'none' };
}
