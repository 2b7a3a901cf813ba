import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { queryInTenant, type TenantStatement } from '../../db/tenant.js';
import { NotFoundError } from '../../errors.js';
import { ASSET_STATUS_LABELS, type AssetStatus } from './rules.js';
import type { Msg } from '../platform/i18n.js';
import { escapeLike, isUuid } from '../customers/rules.js';
import { subtreeIds } from '../groups/index.js';
import {
  authorize,
  groupIdsInReach,
  isStaff,
  scopeAssets,
  seesAssignedGroups,
  seesWholeCustomer,
  type Actor,
} from '../access/index.js';
import { addDays, PLAN_LABELS, RENEWAL_WARNING_DAYS, type Day, type Plan } from './subscription-rules.js';
import {
  encodeAssetCursor,
  listRenewal,
  SEARCH_HINT,
  searchTermOf,
  type AssetListFilter,
  type AssetTab,
  type DueFilter,
  type ListRenewal,
} from './list-rules.js';
import { countsFrom, tabCountsQuery, type CountRow, type TabCounts } from './list-counts.js';

/** The asset list: one keyset page of the actor's reach and its tab counts, in one round trip to the database. */

/** 'asset.view', or 'asset.staff_view' for one customer's list; odd ids are not found. */
export function authorizeList(actor: Actor, filter: Pick<AssetListFilter, 'customerId' | 'groupId'>): void {
  if (filter.groupId !== undefined && filter.groupId !== null && !isUuid(filter.groupId)) throw new NotFoundError();
  if (filter.customerId) {
    authorize(actor, 'asset.staff_view');
    if (!isUuid(filter.customerId)) throw new NotFoundError();
  } else {
    authorize(actor, 'asset.view');
  }
}

/** A company admin's or a staff member's list can hold several customers: it names the customer. */
export function maySpanCustomers(actor: Actor, filter: Pick<AssetListFilter, 'customerId'>): boolean {
  return !filter.customerId && (seesWholeCustomer(actor) || isStaff(actor));
}

/** The assets of the list before paging: the actor's scope, the tab and the search. */
export function filteredAssets(trx: Trx, actor: Actor, filter: AssetListFilter): Knex.QueryBuilder {
  const q = scopeAssets(trx, actor, 'a');
  if (filter.customerId) q.where('a.customer_id', filter.customerId);
  if (seesAssignedGroups(actor)) {
    // the same reach restated on group_path, the list index's next column, so the scan reads only
    // the reached groups' ranges of the customer (the group_id condition above stays the rule)
    const paths = trx('groups as g')
      .where('g.tenant_id', actor.tenantId)
      .whereRaw('g.id = any(array(?))', [groupIdsInReach(trx, actor)])
      .select('g.path');
    q.whereRaw('a.group_path = any(array(?))', [paths]);
  }
  if (filter.groupId) {
    // the group and its sub-groups, restated as its customer and their paths (the list index's
    // leading columns) so the scan reads only their ranges; the group_id condition stays the rule
    const tree = subtreeIds(trx, actor.tenantId, filter.groupId);
    q.whereRaw('a.group_id = any(array(?))', [tree])
      .whereRaw('a.customer_id = (select g.customer_id from groups g where g.tenant_id = ? and g.id = ?)', [
        actor.tenantId,
        filter.groupId,
      ])
      .whereRaw('a.group_path = any(array(?))', [
        trx('groups as g')
          .where('g.tenant_id', actor.tenantId)
          .whereRaw('g.id = any(array(?))', [tree])
          .select('g.path'),
      ]);
  }
  if (filter.tab !== 'all') q.where('a.tab', filter.tab);
  if (filter.due) {
    // a running yearly or quarterly term renewing from today to today + 28 days, an automatic renewal
    // awaiting confirmation included; an asset being deactivated ends the day before, so is not due
    q.where('a.status', 'active')
      .whereIn('a.plan', ['yearly', 'quarterly'])
      .whereBetween('a.next_renewal_on', [filter.today, addDays(filter.today, RENEWAL_WARNING_DAYS)]);
  }
  const term = searchTermOf(filter.q);
  // checked row by row in list order; a selective term reaches its rows by id first (assetListQuery)
  if (term) q.where('a.search_text', 'like', `%${escapeLike(term)}%`);
  return q;
}

/** The list's order, its index's columns. */
export const LIST_ORDER = ['customer_id', 'group_path', 'identifier', 'id'] as const;
const LIST_COLUMNS = [
  'id',
  'customer_id',
  'group_id',
  'group_path',
  'identifier',
  'name',
  'status',
  'plan',
  'next_renewal_on',
  'renewal_unconfirmed',
  'last_located_at',
];
/**
 * Row-level security hides LIKE's statistics from the planner, which then guesses that 0.5 % of the
 * rows match and, at the default random_page_cost of 4, reads the whole scope and sorts it rather
 * than reading in index order until the page is full (250 ms against 2 ms at a million assets).
 * SSD costs, for this transaction only, make it read in order.
 */
export const SEARCH_PLANNING = 'set local random_page_cost = 1.1';
/** A search matching at most this many assets of the tenant is read by id from the trigram index. */
const SEARCH_IDS_MAX = 1000;

/**
 * The page query: size + 1 rows (the extra one tells whether there is another page), by keyset,
 * never OFFSET. With a cursor the page is read from three index ranges merged in order (the rest
 * of the cursor's group, the rest of its customer, the customers after it): one row comparison over
 * all four columns cannot position the index scan once the scope pins customer_id or group_path.
 * A search of 3 or more characters first asks asset_ids_matching (the trigram index, which row-level
 * security keeps a plain LIKE from using): a selective term reads its few rows by id; a broad one
 * (null) is filtered while reading in order. Both forms are in the SQL, and the one-time filters on
 * the search_ids CTE run only one of them.
 * Exported for the benchmark, which runs the same SQL in a bare page.
 */
export function assetListQuery(trx: Trx, actor: Actor, filter: AssetListFilter): Knex.QueryBuilder {
  const cursor = filter.after ?? filter.before;
  const backward = !filter.after && !!filter.before;
  const order = backward ? 'desc' : 'asc';
  const op = backward ? '<' : '>';
  const limit = filter.size + 1;
  const rows = (narrow?: (q: Knex.QueryBuilder) => void) => {
    const q = filteredAssets(trx, actor, filter).select(LIST_COLUMNS.map((c) => `a.${c}`));
    narrow?.(q);
    return q.orderBy(LIST_ORDER.map((c) => ({ column: `a.${c}`, order }))).limit(limit);
  };
  const inOrder = (gate?: (q: Knex.QueryBuilder) => void) => {
    if (!cursor) return [rows(gate)];
    const { customerId, groupPath, identifier, id } = cursor;
    return [
      rows((q) => {
        gate?.(q);
        q.where({ 'a.customer_id': customerId, 'a.group_path': groupPath }).whereRaw(
          `(a.identifier, a.id) ${op} (?, ?::uuid)`,
          [identifier, id],
        );
      }),
      rows((q) => {
        gate?.(q);
        q.where('a.customer_id', customerId).where('a.group_path', op, groupPath);
      }),
      rows((q) => {
        gate?.(q);
        q.where('a.customer_id', op, customerId);
      }),
    ];
  };
  const term = searchTermOf(filter.q);
  const byIds = !!term && term.length >= 3; // shorter terms have no trigram to look up
  const parts = byIds
    ? [
        rows((q) => {
          q.whereRaw('(select v from search_ids) is not null').whereRaw(
            'a.id = any((select v from search_ids)::uuid[])',
          );
          if (cursor)
            q.whereRaw(`(a.customer_id, a.group_path, a.identifier, a.id) ${op} (?::uuid, ?, ?, ?::uuid)`, [
              cursor.customerId,
              cursor.groupPath,
              cursor.identifier,
              cursor.id,
            ]);
        }),
        ...inOrder((q) => q.whereRaw('(select v from search_ids) is null')),
      ]
    : inOrder();
  const page = parts.length === 1 ? parts[0]! : trx.queryBuilder().unionAll(parts, true);
  const q = trx.select('p.*').from(page.as('p'));
  if (byIds)
    q.with('search_ids', trx.raw('select asset_ids_matching(?, ?) as v', [`%${escapeLike(term)}%`, SEARCH_IDS_MAX]));
  if (maySpanCustomers(actor, filter)) {
    q.select(
      trx.raw('(select c.title from customers c where c.tenant_id = ? and c.id = p.customer_id) as customer_title', [
        actor.tenantId,
      ]),
    );
  }
  return q.orderBy(LIST_ORDER.map((c) => ({ column: `p.${c}`, order }))).limit(limit);
}

/** knex used only to build SQL text, which queryInTenant or a tenant connection then runs. */
export const sqlBuilder = (db: Db) => db as unknown as Trx;

/** Staff's one customer, to tell a customer out of reach (404) from an empty list. */
export function customerQuery(trx: Trx, actor: Actor, customerId: string) {
  return trx('customers').where({ tenant_id: actor.tenantId, id: customerId }).select('id', 'title');
}

/** The tab counts alone, for badges elsewhere (listAssets reads them in its own round trip). */
export async function tabCounts(db: Db, actor: Actor, opts: { customerId?: string | null } = {}): Promise<TabCounts> {
  authorizeList(actor, opts);
  const [res] = await queryInTenant(db, actor.tenantId, [tabCountsQuery(sqlBuilder(db), actor, opts.customerId)]);
  return countsFrom(res!.rows as CountRow[]).counts;
}

type ListDbRow = {
  id: string;
  customer_id: string;
  group_id: string | null;
  group_path: string;
  identifier: string;
  name: string;
  status: AssetStatus;
  plan: Plan;
  next_renewal_on: Day | null;
  renewal_unconfirmed: boolean;
  last_located_at: Date | null;
  customer_title?: string | null;
};

export type AssetListRow = {
  id: string;
  identifier: string;
  name: string;
  groupPath: string;
  /** customer and group: where a group header starts */
  groupKey: string;
  customerTitle: string | null;
  status: AssetStatus;
  statusLabel: string;
  planLabel: string;
  /** the page writes the day in the reader's language (`it.day`) */
  renewal: ListRenewal;
  /** the last position's time, ISO: the page writes it in the reader's zone and language (`it.localTime`) */
  lastFixAt: string | null;
};

export type AssetList = {
  tab: AssetTab;
  q: string;
  /** only the assets due for renewal within four weeks */
  due: DueFilter | null;
  size: number;
  /** the term the list is filtered by, or null (no search, or too short) */
  searchTerm: string | null;
  searchHint: Msg | null;
  rows: AssetListRow[];
  nextCursor: string | null;
  prevCursor: string | null;
  /** the page's own cursor, for "Export this page" */
  position: { after: string | null; before: string | null };
  /** a page past the end (or before the start) of the list: offer the first page */
  pastTheEnd: boolean;
  spansGroups: boolean;
  spansCustomers: boolean;
  counts: TabCounts;
  /** staff: the customer listed */
  customer: { id: string; title: string } | null;
  today: Day;
};

function shapeRow(r: ListDbRow, today: Day): AssetListRow {
  const renewal = listRenewal(r, today);
  return {
    id: r.id,
    identifier: r.identifier,
    name: r.name,
    groupPath: r.group_path,
    groupKey: `${r.customer_id}/${r.group_path}`,
    customerTitle: r.customer_title ?? null,
    status: r.status,
    statusLabel: ASSET_STATUS_LABELS[r.status] ?? r.status,
    planLabel: PLAN_LABELS[r.plan] ?? r.plan,
    renewal,
    lastFixAt: r.last_located_at ? r.last_located_at.toISOString() : null,
  };
}

const cursorOf = (r: ListDbRow): string =>
  encodeAssetCursor({ customerId: r.customer_id, groupPath: r.group_path, identifier: r.identifier, id: r.id });

/**
 * One page of the assets in the actor's reach ('asset.view'), or of one customer's for staff
 * ('asset.staff_view' with filter.customerId), with the tab counts; one round trip.
 */
export async function listAssets(db: Db, actor: Actor, filter: AssetListFilter): Promise<AssetList> {
  return (await listAssetsWith(db, actor, filter, [])).list;
}

/**
 * listAssets, plus the rows of `extra` statements the page needs besides the list (the bulk form's
 * groups), sent in the same one round trip rather than a transaction of their own.
 */
export async function listAssetsWith(
  db: Db,
  actor: Actor,
  filter: AssetListFilter,
  extra: TenantStatement[],
): Promise<{ list: AssetList; extraRows: unknown[][] }> {
  authorizeList(actor, filter);
  const trx = sqlBuilder(db);
  const statements: TenantStatement[] = [
    assetListQuery(trx, actor, filter),
    tabCountsQuery(trx, actor, filter.customerId, filter.groupId),
    ...extra,
  ];
  if (filter.customerId) statements.push(customerQuery(trx, actor, filter.customerId));
  const searching = !!searchTermOf(filter.q);
  const results = await queryInTenant(db, actor.tenantId, searching ? [SEARCH_PLANNING, ...statements] : statements);
  const [page, countRows, ...rest] = searching ? results.slice(1) : results;
  const extraRows = rest.slice(0, extra.length).map((r) => r.rows as unknown[]);
  const customerRows = rest[extra.length];
  const customer = (customerRows?.rows[0] as { id: string; title: string } | undefined) ?? null;
  if (filter.customerId && !customer) throw new NotFoundError();

  let rows = page!.rows as ListDbRow[];
  const backward = !filter.after && !!filter.before;
  // a page before the first: show the first page, full, rather than a short one
  if (backward && rows.length < filter.size) return listAssetsWith(db, actor, { ...filter, before: null }, extra);
  const more = rows.length > filter.size;
  rows = rows.slice(0, filter.size);
  if (backward) rows.reverse();
  const first = rows[0];
  const last = rows[rows.length - 1];
  const { counts, spans } = countsFrom(countRows!.rows as CountRow[]);
  const q = filter.q;
  const searchTerm = searchTermOf(q);
  const list: AssetList = {
    tab: filter.tab,
    q,
    due: filter.due ?? null,
    size: filter.size,
    searchTerm,
    searchHint: q && !searchTerm ? SEARCH_HINT : null,
    rows: rows.map((r) => shapeRow(r, filter.today)),
    nextCursor: last && (backward || more) ? cursorOf(last) : null,
    prevCursor: first && (backward ? more : !!filter.after) ? cursorOf(first) : null,
    position: {
      after: filter.after ? encodeAssetCursor(filter.after) : null,
      before: backward && filter.before ? encodeAssetCursor(filter.before) : null,
    },
    pastTheEnd: !rows.length && !!(filter.after || filter.before),
    spansGroups: spans[filter.tab].groups > 1,
    spansCustomers: maySpanCustomers(actor, filter) && spans[filter.tab].customers > 1,
    counts,
    customer,
    today: filter.today,
  };
  return { list, extraRows };
}
