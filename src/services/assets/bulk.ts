import { ASSET_RULE_COLUMNS, type AssetRow } from './detail.js';
import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { type Actor, asActor, authorize, groupsToPick, scopeAssets } from '../access/index.js';
import { isUuid } from '../customers/rules.js';
import { auditMany, type AuditEntry } from '../platform/index.js';

/** Arrays bound for unnest(): knex's typing knows no arrays of nullable values, pg sends them as they are. */
const bound = (values: unknown[]) => values as Knex.RawBinding[];
import { csvLine } from '../platform/csv.js';
import { english, msg, type Msg, type Translator } from '../platform/i18n.js';
import { formatDateTime } from '../platform/time-format.js';
import { filteredAssets, LIST_ORDER, listAssetsWith, sqlBuilder, type AssetList } from './list.js';
import { ASSET_TAB_LABELS, type AssetListFilter } from './list-rules.js';
import { actorLabel } from './request-writes.js';
import { availableActions, formatDay, refusalOf, type AssetAction, type RequestKind } from './rules.js';
import { deactivationDate, todayIn, type Day } from './subscription-rules.js';

/**
 * Bulk actions on assets: one action on every selected asset (ids ticked on a page, or every asset
 * matching the list's filter, read again here from the actor's scope). A preview records per asset
 * what will happen or why it is skipped; confirming runs the action in one transaction, checking
 * each asset again against the same rules as the single action (availableActions, refusalOf,
 * deactivationDate), and writing the changes, the requests and the audit entries set-wise: a fixed
 * number of statements whatever the number of assets.
 */

export const BULK_ACTIONS = ['move', 'deactivate', 'cancel-deactivation', 'confirm-renewal', 'export'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
export const BULK_ACTION_LABELS: Record<BulkAction, string> = {
  move: msg('Move to a group'),
  deactivate: msg('Request deactivation'),
  'cancel-deactivation': msg('Cancel the pending deactivation'),
  'confirm-renewal': msg('Confirm the automatic renewal'),
  export: msg('Export to CSV'),
};
/** The single action each bulk action repeats, whose rules decide per asset. */
const RULE_OF: Record<Exclude<BulkAction, 'export'>, AssetAction> = {
  move: 'move',
  deactivate: 'request_deactivation',
  'cancel-deactivation': 'cancel_deactivation',
  'confirm-renewal': 'confirm_renewal',
};
/** One bulk action reaches at most this many assets; a wider filter is narrowed first. */
export const BULK_MAX = 50_000;
/** The preview and result pages list this many assets; the CSV lists them all. */
export const BULK_ITEMS_SHOWN = 500;

export const BULK_MESSAGES = {
  action: msg('Choose what to do with the selected assets.'),
  group: msg('Choose one of the listed groups.'),
  none: msg('Select at least one asset, or all assets that match the filter.'),
  empty: msg('No assets match this filter.'),
  tooMany: msg('At most {max, number} assets at once: narrow the filter first.', { max: BULK_MAX }),
  // skip reasons are stored as English text (a stored one without values is translated where shown)
  otherCustomer: msg('The group belongs to another customer.'),
  sameGroup: msg('Already in this group.'),
  groupGone: msg('The group is no longer one you may move assets to.'),
  outOfReach: msg('No longer in your reach.'),
  changed: 'Changed since the preview: ',
};

export type BulkSelection = { ids: string[] } | { filter: AssetListFilter };
export type BulkInput = { action: string; groupId: string; selection: BulkSelection };

const isBulkAction = (v: string): v is BulkAction => (BULK_ACTIONS as readonly string[]).includes(v);

/** An asset as a bulk action judges it: the row the asset page reads, with its pending requests. */
type Candidate = Omit<AssetRow, 'tenant_id' | 'last_latitude' | 'last_longitude' | 'last_located_at'> & {
  pending: RequestKind[];
  pending_deactivation_on: Day | null;
};

type Target = { id: string; customerId: string; path: string };

type Judgement = { ready: true; effectiveOn: Day | null } | { ready: false; reason: string };

/** The selected assets in the actor's reach: one statement, in list order. */
function selectedAssets(trx: Trx, actor: Actor, selection: BulkSelection): Knex.QueryBuilder {
  return 'filter' in selection
    ? filteredAssets(trx, actor, selection.filter)
    : scopeAssets(trx, actor, 'a').whereRaw('a.id = any(?::uuid[])', [selection.ids]);
}

/** What the rules need of each asset of `q` (a query on assets as `a`), its pending requests included. */
function withCandidateColumns(trx: Trx, q: Knex.QueryBuilder): Knex.QueryBuilder {
  return q.select(ASSET_RULE_COLUMNS.map((c) => `a.${c}`)).select(
    trx.raw(
      `coalesce((select array_agg(r.kind::text) from asset_requests r
                  where r.tenant_id = a.tenant_id and r.asset_id = a.id and r.state = 'pending'), '{}') as pending`,
    ),
    trx.raw(
      `(select to_char(r.effective_on, 'YYYY-MM-DD') from asset_requests r where r.tenant_id = a.tenant_id
         and r.asset_id = a.id and r.kind = 'deactivation' and r.state = 'pending') as pending_deactivation_on`,
    ),
  );
}

/** What the action would do to one asset, by the single action's rules, or why it skips it. */
function judge(c: Candidate, action: BulkAction, actor: Actor, today: Day, target: Target | null): Judgement {
  if (action === 'export') return { ready: true, effectiveOn: null };
  const subject = { status: c.status, hasPastTerm: c.term_start !== null, renewalUnconfirmed: c.renewal_unconfirmed };
  const rule = RULE_OF[action];
  if (!availableActions(subject, actor.role, c.pending).includes(rule))
    return {
      ready: false,
      reason: refusalOf(rule, subject, { deactivationOnLabel: formatDay(c.pending_deactivation_on) }),
    };
  if (action === 'move') {
    if (!target) return { ready: false, reason: BULK_MESSAGES.groupGone };
    if (target.customerId !== c.customer_id) return { ready: false, reason: BULK_MESSAGES.otherCustomer };
    if (target.id === c.group_id) return { ready: false, reason: BULK_MESSAGES.sameGroup };
  }
  if (action === 'deactivate') {
    const terms = {
      plan: c.plan,
      termEnd: c.term_end,
      nextRenewalOn: c.next_renewal_on,
      renewalUnconfirmed: c.renewal_unconfirmed,
    };
    return { ready: true, effectiveOn: deactivationDate(terms, today) };
  }
  return { ready: true, effectiveOn: null };
}

/** The group assets may be moved to, if the actor may pick it. */
async function targetGroup(trx: Trx, actor: Actor, groupId: string | null): Promise<Target | null> {
  if (!groupId || !isUuid(groupId)) return null;
  const row = await groupsToPick(trx, actor, 'g')
    .where('g.id', groupId)
    .first<{ id: string; customer_id: string; path: string } | undefined>('g.id', 'g.customer_id', 'g.path');
  return row ? { id: row.id, customerId: row.customer_id, path: row.path } : null;
}

/** The selection in words, for the preview and result pages. */
function describeSelection(selection: BulkSelection): string {
  if (!('filter' in selection)) return `${selection.ids.length} selected asset${selection.ids.length === 1 ? '' : 's'}`;
  const f = selection.filter;
  const parts = [f.tab === 'all' ? 'All assets' : `${ASSET_TAB_LABELS[f.tab]} assets`];
  if (f.due) parts.push('due for renewal within 4 weeks');
  if (f.q) parts.push(`matching “${f.q}”`);
  return parts.join(' ');
}

/**
 * Records what the action would do to each selected asset; nothing changes yet. An export has
 * nothing to confirm: it is done at once. A selected id outside the actor's reach is not found
 * (404), whatever the others are: the page never offered it.
 */
export async function previewBulkAction(db: Db, actor: Actor, input: BulkInput, now: Date): Promise<{ id: string }> {
  authorize(actor, 'asset.request');
  const action = input.action;
  if (!isBulkAction(action)) throw new ValidationError({ action: BULK_MESSAGES.action });
  let selection = input.selection;
  if (!('filter' in selection)) {
    const ids = [...new Set(selection.ids)];
    if (!ids.length) throw new ValidationError({ ids: BULK_MESSAGES.none });
    if (!ids.every(isUuid)) throw new NotFoundError();
    selection = { ids };
  }
  return asActor(db, actor, async (trx) => {
    const target = action === 'move' ? await targetGroup(trx, actor, input.groupId) : null;
    if (action === 'move' && !target) throw new ValidationError({ group_id: BULK_MESSAGES.group });
    const rows: Candidate[] = await withCandidateColumns(trx, selectedAssets(trx, actor, selection))
      .orderBy(LIST_ORDER.map((c) => `a.${c}`))
      .limit(BULK_MAX + 1);
    if (!('filter' in selection) && rows.length !== selection.ids.length) throw new NotFoundError();
    if (!rows.length) throw new ValidationError({ ids: BULK_MESSAGES.empty });
    if (rows.length > BULK_MAX) throw new ValidationError({ ids: BULK_MESSAGES.tooMany });
    const today = todayIn(actor.timeZone, now);
    const judged = rows.map((c) => ({ c, j: judge(c, action, actor, today, target) }));
    const ready = judged.filter((x) => x.j.ready).length;
    const [bulk] = await trx('bulk_actions')
      .insert({
        tenant_id: actor.tenantId,
        membership_id: actor.membershipId,
        action,
        group_id: target?.id ?? null,
        group_path: target?.path ?? null,
        selection: describeSelection(selection).slice(0, 300),
        total: rows.length,
        ready,
        skipped: rows.length - ready,
      })
      .returning<{ id: string }[]>('id');
    await trx.raw(
      `insert into bulk_action_items
         (tenant_id, bulk_action_id, position, asset_id, identifier, name, outcome, reason, effective_on)
       select ?, ?, t.ord, t.asset_id, t.identifier, t.name, t.outcome, t.reason, t.effective_on
         from unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::date[])
              with ordinality as t(asset_id, identifier, name, outcome, reason, effective_on, ord)`,
      bound([
        actor.tenantId,
        bulk!.id,
        judged.map((x) => x.c.id),
        judged.map((x) => x.c.identifier),
        judged.map((x) => x.c.name),
        judged.map((x) => (x.j.ready ? 'ready' : 'skipped')),
        judged.map((x) => (x.j.ready ? null : x.j.reason)),
        judged.map((x) => (x.j.ready ? x.j.effectiveOn : null)),
      ]),
    );
    if (action === 'export') await finish(trx, actor, bulk!.id, action);
    return { id: bulk!.id };
  });
}

type BulkRow = {
  id: string;
  action: BulkAction;
  group_id: string | null;
  group_path: string | null;
  selection: string;
  state: 'previewed' | 'done';
  total: number;
  ready: number;
  done: number;
  skipped: number;
  created_at: Date;
  finished_at: Date | null;
};

/** The actor's own bulk action: another person's, even of the same customer, is not found. */
async function findBulk(trx: Trx, actor: Actor, id: string, opts: { forUpdate?: boolean } = {}): Promise<BulkRow> {
  if (!isUuid(id)) throw new NotFoundError();
  const q = trx('bulk_actions')
    .where({ tenant_id: actor.tenantId, id, membership_id: actor.membershipId })
    .first<BulkRow | undefined>();
  if (opts.forUpdate) q.forUpdate();
  const row = await q;
  if (!row) throw new NotFoundError();
  return row;
}

/**
 * Marks the bulk action done with its counts; what is still ready was exported, or else is no longer
 * in reach (skipped).
 */
async function finish(trx: Trx, actor: Actor, id: string, action: BulkAction): Promise<void> {
  const where = { tenant_id: actor.tenantId, bulk_action_id: id };
  if (action === 'export') {
    await trx('bulk_action_items')
      .where({ ...where, outcome: 'ready' })
      .update({ outcome: 'done' });
  } else {
    await trx('bulk_action_items')
      .where({ ...where, outcome: 'ready' })
      .update({ outcome: 'skipped', reason: BULK_MESSAGES.outOfReach });
  }
  await trx.raw(
    `update bulk_actions b set state = 'done', finished_at = now(),
        done = (select count(*) from bulk_action_items i
                 where i.tenant_id = b.tenant_id and i.bulk_action_id = b.id and i.outcome = 'done'),
        skipped = (select count(*) from bulk_action_items i
                    where i.tenant_id = b.tenant_id and i.bulk_action_id = b.id and i.outcome = 'skipped')
      where b.tenant_id = ? and b.id = ?`,
    [actor.tenantId, id],
  );
}

const NIL = '00000000-0000-0000-0000-000000000000';

/**
 * One UPDATE of many assets (joined to their ids, not `= any(array)`, which is checked row by row), with
 * the tab counters kept set-wise: the assets leave their (customer, group, status) counts before and
 * join the new ones after, while the per-row trigger stands aside (migration 20261206140300).
 */
async function updateAssets(trx: Trx, tenantId: string, ids: string[], set: string, bindings: unknown[] = []) {
  const count = (sign: '-' | '+') =>
    trx.raw(
      `insert into asset_counts as c (tenant_id, customer_id, group_key, status, n)
       select a.tenant_id, a.customer_id, coalesce(a.group_id, ?::uuid), a.status, ${sign}count(*)
         from assets a join unnest(?::uuid[]) as x(id) on a.id = x.id
        where a.tenant_id = ?
        group by 1, 2, 3, 4
       on conflict (tenant_id, customer_id, group_key, status) do update set n = c.n + excluded.n`,
      bound([NIL, ids, tenantId]),
    );
  await count('-');
  await trx.raw("select set_config('portico.asset_counts', 'set-wise', true)");
  await trx.raw(
    `update assets a set ${set}, updated_at = now() from unnest(?::uuid[]) as x(id)
      where a.tenant_id = ? and a.id = x.id`,
    bound([...bindings, ids, tenantId]),
  );
  await trx.raw("select set_config('portico.asset_counts', '', true)");
  await count('+');
}

/** The writes of one action over the assets that passed the rules again; a fixed number of statements. */
async function apply(trx: Trx, actor: Actor, bulk: BulkRow, items: { c: Candidate; effectiveOn: Day | null }[]) {
  const t = actor.tenantId;
  const ids = items.map((x) => x.c.id);
  const customers = items.map((x) => x.c.customer_id);
  const who = [actor.userId, actorLabel(actor)];
  const entry = (
    c: Candidate,
    before: Record<string, unknown>,
    after: Record<string, unknown>,
  ): Omit<AuditEntry, 'action'> => ({
    entityType: 'asset',
    entityId: c.id,
    customerId: c.customer_id,
    before: { identifier: c.identifier, ...before },
    after: { identifier: c.identifier, ...after },
  });
  const insertRequests = (kind: RequestKind, state: string, extra: string, extraValues: unknown[]) =>
    trx.raw(
      `insert into asset_requests (tenant_id, asset_id, customer_id, kind, state, requested_by, requested_by_label,
         decided_by, decided_by_label, decided_at, effective_on, from_group_id, to_group_id)
       select ?, r.asset_id, r.customer_id, ?, ?, ?, ?, ${extra}
         from unnest(?::uuid[], ?::uuid[], ?::date[], ?::uuid[])
              as r(asset_id, customer_id, effective_on, from_group_id)`,
      bound([
        t,
        kind,
        state,
        ...who,
        ...extraValues,
        ids,
        customers,
        items.map((x) => x.effectiveOn),
        items.map((x) => x.c.group_id),
      ]),
    );
  const decided = `?::uuid, ?, now()`;
  switch (bulk.action) {
    case 'move': {
      await updateAssets(trx, t, ids, 'group_id = ?, group_path = ?', [bulk.group_id, bulk.group_path]);
      await insertRequests('group_move', 'applied', `${decided}, null, r.from_group_id, ?::uuid`, [
        ...who,
        bulk.group_id,
      ]);
      const moved = { group_id: bulk.group_id, group_path: bulk.group_path };
      return auditMany(
        trx,
        actor,
        'asset.moved',
        items.map(({ c }) => entry(c, { group_id: c.group_id, group_path: c.group_path }, moved)),
      );
    }
    case 'deactivate': {
      await updateAssets(trx, t, ids, "status = 'deactivation_pending'");
      await insertRequests('deactivation', 'pending', 'null, null, null, r.effective_on, null, null', []);
      return auditMany(
        trx,
        actor,
        'asset.deactivation_requested',
        items.map(({ c, effectiveOn }) =>
          entry(c, { status: c.status }, { status: 'deactivation_pending', effective_on: effectiveOn }),
        ),
      );
    }
    case 'cancel-deactivation': {
      await trx.raw(
        `update asset_requests set state = 'cancelled', decided_by = ?, decided_by_label = ?, decided_at = now()
          where tenant_id = ? and asset_id = any(?::uuid[]) and kind = 'deactivation' and state = 'pending'`,
        [...who, t, ids],
      );
      await updateAssets(trx, t, ids, "status = 'active'");
      return auditMany(
        trx,
        actor,
        'asset.deactivation_cancelled',
        items.map(({ c }) =>
          entry(
            c,
            { status: c.status, effective_on: c.pending_deactivation_on },
            { status: 'active', effective_on: null },
          ),
        ),
      );
    }
    case 'confirm-renewal': {
      await updateAssets(trx, t, ids, 'renewal_unconfirmed = false');
      await insertRequests('renewal_confirmation', 'applied', `${decided}, null, null, null`, [...who]);
      return auditMany(
        trx,
        actor,
        'asset.renewal_confirmed',
        items.map(({ c }) =>
          entry(c, { renewal_unconfirmed: true }, { renewal_unconfirmed: false, term_end: c.term_end }),
        ),
      );
    }
    case 'export':
      return;
  }
}

/**
 * Runs a previewed bulk action: the assets that were ready are locked and judged again (someone may
 * have acted on one since), then changed together; what no longer passes is skipped with its reason.
 * One transaction: all of it happens or none. Confirming again changes nothing.
 */
export async function runBulkAction(db: Db, actor: Actor, id: string, now: Date): Promise<void> {
  authorize(actor, 'asset.request');
  await asActor(db, actor, async (trx) => {
    const bulk = await findBulk(trx, actor, id, { forUpdate: true });
    if (bulk.state === 'done') return;
    const target = bulk.action === 'move' ? await targetGroup(trx, actor, bulk.group_id) : null;
    // in reach now (the scope is applied again), locked in id order so two bulk actions cannot deadlock
    const readyIds = trx('bulk_action_items')
      .where({ tenant_id: actor.tenantId, bulk_action_id: bulk.id, outcome: 'ready' })
      .select('asset_id');
    const rows: Candidate[] = await withCandidateColumns(
      trx,
      scopeAssets(trx, actor, 'a').whereRaw('a.id = any(array(?))', [readyIds]),
    )
      .orderBy('a.id')
      .forUpdate('a');
    const today = todayIn(actor.timeZone, now);
    const ready: { c: Candidate; effectiveOn: Day | null }[] = [];
    const skipped: { c: Candidate; reason: string }[] = [];
    for (const c of rows) {
      const j = judge(c, bulk.action, actor, today, target);
      if (j.ready) ready.push({ c, effectiveOn: j.effectiveOn });
      else skipped.push({ c, reason: BULK_MESSAGES.changed + j.reason });
    }
    await apply(trx, actor, bulk, ready);
    await trx.raw(
      `update bulk_action_items i set outcome = 'done', effective_on = t.effective_on
         from unnest(?::uuid[], ?::date[]) as t(asset_id, effective_on)
        where i.tenant_id = ? and i.bulk_action_id = ? and i.asset_id = t.asset_id`,
      bound([ready.map((x) => x.c.id), ready.map((x) => x.effectiveOn), actor.tenantId, bulk.id]),
    );
    await trx.raw(
      `update bulk_action_items i set outcome = 'skipped', reason = left(t.reason, 300)
         from unnest(?::uuid[], ?::text[]) as t(asset_id, reason)
        where i.tenant_id = ? and i.bulk_action_id = ? and i.asset_id = t.asset_id`,
      bound([skipped.map((x) => x.c.id), skipped.map((x) => x.reason), actor.tenantId, bulk.id]),
    );
    await finish(trx, actor, bulk.id, bulk.action);
  });
}

export type BulkItemView = {
  assetId: string;
  identifier: string;
  name: string;
  outcome: 'ready' | 'skipped' | 'done';
  /** what happens or happened to it, or why it is skipped (its `day` and `reason` given again where shown) */
  text: Msg;
  /** why it is skipped, as stored (English) */
  reason: string | null;
  effectiveOn: Day | null;
};

export type BulkView = {
  id: string;
  action: BulkAction;
  actionLabel: string;
  state: 'previewed' | 'done';
  selection: string;
  groupPath: string | null;
  total: number;
  ready: number;
  done: number;
  skipped: number;
  /** the summary sentence, for the page's heading and the flash */
  summary: Msg;
  finishedAtLabel: string;
  items: BulkItemView[];
};

/** What the action does to a ready asset, or did to a done one (the day in English; `day` again where shown). */
function itemText(action: BulkAction, outcome: string, groupPath: string | null, effectiveOn: Day | null): Msg {
  const done = outcome === 'done';
  switch (action) {
    case 'move':
      return done
        ? msg('Moved to {group}', { group: groupPath ?? '' })
        : msg('Will move to {group}', { group: groupPath ?? '' });
    case 'deactivate':
      return done
        ? msg('Deactivation requested: it takes effect on {day}', { day: formatDay(effectiveOn) })
        : msg('Deactivation will be requested: it takes effect on {day}', { day: formatDay(effectiveOn) });
    case 'cancel-deactivation':
      return done
        ? msg('Deactivation cancelled: the asset stays active')
        : msg('The pending deactivation will be cancelled');
    case 'confirm-renewal':
      return done ? msg('Renewal confirmed') : msg('The automatic renewal will be confirmed');
    case 'export':
      return msg('Exported');
  }
}

/** The summary sentence of a preview (what will happen) or a result (what happened). */
function summaryOf(b: BulkRow): Msg {
  const values = { action: b.action.replace('-', '_'), group: b.group_path ?? '', skipped: b.skipped };
  if (b.state === 'done')
    return msg(
      'Done: {action, select, move {{done, plural, one {# asset} other {# assets}} moved to {group}} deactivate {deactivation requested for {done, plural, one {# asset} other {# assets}}} cancel_deactivation {deactivation cancelled for {done, plural, one {# asset} other {# assets}}} confirm_renewal {renewal confirmed for {done, plural, one {# asset} other {# assets}}} other {{done, plural, one {# asset} other {# assets}} exported}}{skipped, plural, =0 {} one {; # asset skipped (see why below)} other {; # assets skipped (see why below)}}.',
      { ...values, done: b.done },
    );
  return msg(
    'Of {total, plural, one {# selected asset} other {# selected assets}}, {action, select, move {{ready, number} will be moved to {group}} deactivate {{ready, number} will have their deactivation requested} cancel_deactivation {{ready, number} will have their pending deactivation cancelled} confirm_renewal {{ready, number} will have their automatic renewal confirmed} other {{ready, number} will be exported}}{skipped, plural, =0 {} one {; # asset will be skipped (see why below)} other {; # assets will be skipped (see why below)}}.',
    { ...values, total: b.total, ready: b.ready },
  );
}

/** A bulk action's preview or result, with the first assets of it (skipped ones first, then in list order). */
export async function getBulkAction(db: Db, actor: Actor, id: string): Promise<BulkView> {
  authorize(actor, 'asset.request');
  return asActor(db, actor, async (trx) => {
    const b = await findBulk(trx, actor, id);
    const items: {
      asset_id: string;
      identifier: string;
      name: string;
      outcome: string;
      reason: string | null;
      effective_on: Day | null;
    }[] = await trx('bulk_action_items')
      .where({ tenant_id: actor.tenantId, bulk_action_id: b.id })
      .orderByRaw("(outcome = 'skipped') desc, position")
      .limit(BULK_ITEMS_SHOWN)
      .select(
        'asset_id',
        'identifier',
        'name',
        'outcome',
        'reason',
        trx.raw("to_char(effective_on, 'YYYY-MM-DD') as effective_on"),
      );
    return {
      id: b.id,
      action: b.action,
      actionLabel: BULK_ACTION_LABELS[b.action],
      state: b.state,
      selection: b.selection,
      groupPath: b.group_path,
      total: b.total,
      ready: b.ready,
      done: b.done,
      skipped: b.skipped,
      summary: summaryOf(b),
      finishedAtLabel: formatDateTime(b.finished_at, actor.timeZone),
      items: items.map((i) => ({
        assetId: i.asset_id,
        identifier: i.identifier,
        name: i.name,
        outcome: i.outcome as BulkItemView['outcome'],
        text:
          i.outcome === 'skipped'
            ? msg('Skipped: {reason}', { reason: i.reason ?? '' })
            : itemText(b.action, i.outcome, b.group_path, i.effective_on),
        reason: i.reason,
        effectiveOn: i.effective_on,
      })),
    };
  });
}

const OUTCOME_LABELS = { ready: msg('To do'), skipped: msg('Skipped'), done: msg('Done') } as const;

/** Every asset of a bulk action with its outcome, as CSV (formula cells neutralised by csvLine), in `tr`'s language. */
export async function bulkActionCsv(
  db: Db,
  actor: Actor,
  id: string,
  tr: Translator = english,
): Promise<{ filename: string; body: string }> {
  authorize(actor, 'asset.request');
  return asActor(db, actor, async (trx) => {
    const b = await findBulk(trx, actor, id);
    const rows: {
      identifier: string;
      name: string;
      outcome: keyof typeof OUTCOME_LABELS;
      reason: string | null;
      effective_on: Day | null;
    }[] = await trx('bulk_action_items')
      .where({ tenant_id: actor.tenantId, bulk_action_id: b.id })
      .orderBy('position')
      .select(
        'identifier',
        'name',
        'outcome',
        'reason',
        trx.raw("to_char(effective_on, 'YYYY-MM-DD') as effective_on"),
      );
    const lines = [csvLine([tr.t('Identifier'), tr.t('Name'), tr.t('Result'), tr.t('Detail'), tr.t('Effective on')])];
    for (const r of rows) {
      const detail =
        r.outcome === 'skipped'
          ? storedText(tr, r.reason)
          : tr.t(itemText(b.action, r.outcome, b.group_path, r.effective_on), {
              day: formatDay(r.effective_on, tr.locale),
            });
      lines.push(csvLine([r.identifier, r.name, tr.t(OUTCOME_LABELS[r.outcome]), detail, r.effective_on ?? '']));
    }
    return { filename: `assets-${b.action}-${b.id.slice(0, 8)}.csv`, body: lines.join('') };
  });
}

/**
 * A stored English text (a skip reason) in `tr`'s language when it is a catalog message without values;
 * as stored otherwise (one with values was stored already written out).
 */
export function storedText(tr: Translator, text: string | null): string {
  if (!text) return '';
  return /[{}']/.test(text) ? text : tr.t(text);
}

type GroupChoiceRow = { id: string; path: string; title: string; customer_id: string };
export type BulkGroupChoice = { id: string; label: string };

/** The groups a bulk move may choose: every group the actor may pick, with its customer's title. */
function groupChoicesQuery(trx: Trx, actor: Actor): Knex.QueryBuilder {
  return groupsToPick(trx, actor, 'g')
    .join('customers as c', function () {
      this.on('c.tenant_id', 'g.tenant_id').andOn('c.id', 'g.customer_id');
    })
    .orderBy(['c.title', 'g.customer_id', 'g.path', 'g.id'])
    .select('g.id', 'g.path', 'c.title', 'g.customer_id');
}

/** Named by path (and customer, when several). */
function groupChoicesFrom(rows: GroupChoiceRow[]): BulkGroupChoice[] {
  const several = new Set(rows.map((r) => r.customer_id)).size > 1;
  return rows.map((r) => ({ id: r.id, label: several ? `${r.title} · ${r.path}` : r.path }));
}

/** The groups a bulk move may choose (the preview page's form). */
export async function bulkGroupChoices(db: Db, actor: Actor): Promise<BulkGroupChoice[]> {
  return asActor(db, actor, async (trx) => groupChoicesFrom(await groupChoicesQuery(trx, actor)));
}

/**
 * /assets for a person who may act in bulk: the list and the bulk form's groups in the list's one
 * round trip (a page of the list is the app's hottest read; a transaction of its own for the groups
 * cost it four more round trips).
 */
export async function listAssetsWithGroupChoices(
  db: Db,
  actor: Actor,
  filter: AssetListFilter,
): Promise<{ list: AssetList; groups: BulkGroupChoice[] }> {
  const { list, extraRows } = await listAssetsWith(db, actor, filter, [groupChoicesQuery(sqlBuilder(db), actor)]);
  return { list, groups: groupChoicesFrom(extraRows[0] as GroupChoiceRow[]) };
}
