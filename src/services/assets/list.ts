import { finished } from 'node:stream';
import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { to as copyTo } from 'pg-copy-streams';
import type { Db, Trx } from '../../db/index.js';
import { openTenantConnection, queryInTenant } from '../../db/tenant.js';
import { NotFoundError } from '../../errors.js';
import { ASSET_STATUS_LABELS, formatDay, type AssetStatus } from './rules.js';
import { csvLine, neutralisedSql } from '../platform/csv.js';
import { formatDateTime } from '../platform/time-format.js';
import { escapeLike, isUuid } from '../customers/rules.js';
import { subtreeIds } from '../groups/index.js';
import {
  authorize,
  groupIdsInReach,
  isStaff,
  scopeAssetCounts,
  scopeAssets,
  seesAssignedGroups,
  seesWholeCustomer,
  type Actor,
} from '../access/index.js';
import {
  PLAN_LABELS,
  RENEWAL_STATE_TEXT,
  RENEWAL_WARNING_DAYS,
  renewalState,
  type Day,
  type Plan,
  type RenewalState,
} from './subscription-rules.js';

/**
 * The asset list: tabs by status with their counts, search, keyset pages in the order (customer,
 * group path, identifier, id), and CSV of the page or of the whole filtered set. A page is one round
 * trip to the database (tenant setup, page, tab counts); tab counts come from asset_counts, never
 * from counting assets.
 */

export const ASSET_TABS = ['all', 'active', 'activation-pending', 'deactivation-pending', 'inactive'] as const;
export type AssetTab = (typeof ASSET_TABS)[number];
export const ASSET_TAB_LABELS: Record<AssetTab, string> = {
  all: 'All',
  active: 'Active',
  'activation-pending': 'Activation pending',
  'deactivation-pending': 'Deactivation pending',
  inactive: 'Inactive',
};
export const ASSET_PAGE_SIZES = [10, 25, 50, 100] as const;
export const DEFAULT_ASSET_PAGE_SIZE = 25;
/** Shorter terms would match nearly everything and cannot use the trigram index. */
export const SEARCH_MIN_LENGTH = 2;
export const SEARCH_HINT = `Type at least ${SEARCH_MIN_LENGTH} characters to search.`;

/** A position in the list: the sort values of one row. */
export type AssetCursor = { customerId: string; groupPath: string; identifier: string; id: string };

export type AssetListFilter = {
  tab: AssetTab;
  q: string;
  /** rows strictly after this one; wins over `before` */
  after: AssetCursor | null;
  /** the page that ends just before this row */
  before: AssetCursor | null;
  size: number;
  /** the viewer's calendar day, for the renewal column */
  today: Day;
  /** staff only: the one customer whose assets to list */
  customerId?: string | null;
  /** a group's page: the assets of that group and of its sub-groups */
  groupId?: string | null;
};

const firstOf = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);

/** List state from a query string; anything odd falls back to the default (all, first page, 25). */
export function assetFilterFrom(raw: Record<string, unknown>, today: Day): AssetListFilter {
  const tab = firstOf(raw.tab);
  const q = firstOf(raw.q);
  const size = Number(firstOf(raw.size));
  return {
    tab: (ASSET_TABS as readonly unknown[]).includes(tab) ? (tab as AssetTab) : 'all',
    q: typeof q === 'string' ? q.trim().slice(0, 200) : '',
    after: decodeCursor(firstOf(raw.after)),
    before: decodeCursor(firstOf(raw.before)),
    size: (ASSET_PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_ASSET_PAGE_SIZE,
    today,
  };
}

/** Opaque to the browser: base64url of the row's sort values. */
export function encodeCursor(c: AssetCursor): string {
  return Buffer.from(JSON.stringify([c.customerId, c.groupPath, c.identifier, c.id])).toString('base64url');
}

/** A cursor from the address bar, or null when it is not one of ours. */
export function decodeCursor(value: unknown): AssetCursor | null {
  if (typeof value !== 'string' || !value || value.length > 2000) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 4 || !v.every((x) => typeof x === 'string')) return null;
    const [customerId, groupPath, identifier, id] = v as [string, string, string, string];
    if (!isUuid(customerId) || !isUuid(id) || groupPath.length > 1000 || identifier.length > 64) return null;
    return { customerId, groupPath, identifier, id };
  } catch {
    return null;
  }
}

/** The search as matched: lowercased (search_text is), or null when too short to filter. */
export function searchTermOf(q: string): string | null {
  return q.length >= SEARCH_MIN_LENGTH ? q.toLowerCase() : null;
}

/** The address of a list state: only what differs from the defaults, in a fixed order. */
export function assetListHref(
  base: string,
  state: { tab?: AssetTab; q?: string; size?: number; after?: string | null; before?: string | null; scope?: 'page' },
): string {
  const p = new URLSearchParams();
  if (state.tab && state.tab !== 'all') p.set('tab', state.tab);
  if (state.q) p.set('q', state.q);
  if (state.size && state.size !== DEFAULT_ASSET_PAGE_SIZE) p.set('size', String(state.size));
  if (state.after) p.set('after', state.after);
  else if (state.before) p.set('before', state.before);
  if (state.scope) p.set('scope', state.scope);
  return p.size ? `${base}?${p.toString()}` : base;
}

function authorizeList(actor: Actor, filter: Pick<AssetListFilter, 'customerId' | 'groupId'>): void {
  if (filter.groupId !== undefined && filter.groupId !== null && !isUuid(filter.groupId)) throw new NotFoundError();
  if (filter.customerId) {
    authorize(actor, 'asset.staff_view');
    if (!isUuid(filter.customerId)) throw new NotFoundError();
  } else {
    authorize(actor, 'asset.view');
  }
}

/** A company admin's or a staff member's list can hold several customers: it names the customer. */
function maySpanCustomers(actor: Actor, filter: Pick<AssetListFilter, 'customerId'>): boolean {
  return !filter.customerId && (seesWholeCustomer(actor) || isStaff(actor));
}

/** The assets of the list before paging: the actor's scope, the tab and the search. */
function filteredAssets(trx: Trx, actor: Actor, filter: AssetListFilter): Knex.QueryBuilder {
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
  const term = searchTermOf(filter.q);
  // checked row by row in list order; a selective term reaches its rows by id first (assetListQuery)
  if (term) q.where('a.search_text', 'like', `%${escapeLike(term)}%`);
  return q;
}

const ORDER = ['customer_id', 'group_path', 'identifier', 'id'] as const;
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
    return q.orderBy(ORDER.map((c) => ({ column: `a.${c}`, order }))).limit(limit);
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
  return q.orderBy(ORDER.map((c) => ({ column: `p.${c}`, order }))).limit(limit);
}

/** The list's tab of a status, as the generated column assets.tab has it. */
const TAB_OF_STATUS = `case when c.status in ('inactive', 'deactivated') then 'inactive' when c.status = 'activation_pending' then 'activation-pending'
  when c.status = 'deactivation_pending' then 'deactivation-pending' else 'active' end`;

/**
 * Tab counts from the counters the asset trigger keeps (asset_counts), summed over the actor's
 * scope: one row per tab and one for all, each with how many customers and groups it spans.
 */
export function tabCountsQuery(
  trx: Trx,
  actor: Actor,
  customerId?: string | null,
  groupId?: string | null,
): Knex.QueryBuilder {
  const rows = scopeAssetCounts(trx, actor, 'c')
    .where('c.n', '>', 0)
    .select(trx.raw(`${TAB_OF_STATUS} as tab`), 'c.customer_id', 'c.group_key', 'c.n');
  if (customerId) rows.where('c.customer_id', customerId);
  if (groupId) rows.whereRaw('c.group_key = any(array(?))', [subtreeIds(trx, actor.tenantId, groupId)]);
  return trx
    .from(rows.as('t'))
    .select(
      trx.raw(
        "coalesce(t.tab, 'all') as tab, sum(t.n)::bigint as n, count(distinct t.customer_id)::int as customers, count(distinct t.group_key)::int as groups",
      ),
    )
    .groupByRaw('grouping sets ((t.tab), ())');
}

type CountRow = { tab: AssetTab; n: number; customers: number; groups: number };
export type TabCounts = Record<AssetTab, number>;

function countsFrom(rows: CountRow[]): {
  counts: TabCounts;
  spans: Record<AssetTab, { customers: number; groups: number }>;
} {
  const counts = Object.fromEntries(ASSET_TABS.map((t) => [t, 0])) as TabCounts;
  const spans = Object.fromEntries(ASSET_TABS.map((t) => [t, { customers: 0, groups: 0 }])) as Record<
    AssetTab,
    { customers: number; groups: number }
  >;
  for (const r of rows) {
    counts[r.tab] = Number(r.n);
    spans[r.tab] = { customers: r.customers, groups: r.groups };
  }
  return { counts, spans };
}

/** knex used only to build SQL text, which queryInTenant or a tenant connection then runs. */
const builder = (db: Db) => db as unknown as Trx;

function customerQuery(trx: Trx, actor: Actor, customerId: string) {
  return trx('customers').where({ tenant_id: actor.tenantId, id: customerId }).select('id', 'title');
}

/** The tab counts alone, for badges elsewhere (listAssets reads them in its own round trip). */
export async function tabCounts(db: Db, actor: Actor, opts: { customerId?: string | null } = {}): Promise<TabCounts> {
  authorizeList(actor, opts);
  const [res] = await queryInTenant(db, actor.tenantId, [
    tabCountsQuery(builder(db), actor, opts.customerId).toQuery(),
  ]);
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

export type ListRenewal = { state: RenewalState; text: string; day: Day | null };

export const NO_RENEWAL_TEXT = {
  deactivating: 'No renewal: a deactivation is pending',
  inactive: 'No renewal: the asset is not active',
};

/**
 * The renewal column: only a running subscription renews (an asset being deactivated does not,
 * unless a renewal already happened and awaits confirmation). The CSV export's SQL mirrors this.
 */
export function listRenewal(
  a: Pick<ListDbRow, 'status' | 'plan' | 'next_renewal_on' | 'renewal_unconfirmed'>,
  today: Day,
): ListRenewal {
  if (a.status === 'deactivation_pending' && !a.renewal_unconfirmed)
    return { state: 'none', text: NO_RENEWAL_TEXT.deactivating, day: null };
  if (a.status !== 'active' && a.status !== 'deactivation_pending')
    return { state: 'none', text: NO_RENEWAL_TEXT.inactive, day: null };
  const state = renewalState(
    { plan: a.plan, termEnd: null, nextRenewalOn: a.next_renewal_on, renewalUnconfirmed: a.renewal_unconfirmed },
    today,
  );
  return { state, text: RENEWAL_STATE_TEXT[state], day: state === 'none' ? null : a.next_renewal_on };
}

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
  renewal: ListRenewal & { dayLabel: string };
  lastFixAt: string | null;
  lastFixLabel: string;
  /** "YYYY-MM-DD HH:MM" in the viewer's zone, as the CSV has it */
  lastFixCsv: string;
};

export type AssetList = {
  tab: AssetTab;
  q: string;
  size: number;
  /** the term the list is filtered by, or null (no search, or too short) */
  searchTerm: string | null;
  searchHint: string | null;
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

const minuteFormats = new Map<string, Intl.DateTimeFormat>();

/** "2026-11-24 14:05" in a time zone: what to_char(... at time zone, 'YYYY-MM-DD HH24:MI') writes. */
export function csvDateTime(value: Date | null, timeZone: string): string {
  if (!value) return '';
  let f = minuteFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    minuteFormats.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(value).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

function shapeRow(r: ListDbRow, actor: Actor, today: Day): AssetListRow {
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
    renewal: { ...renewal, dayLabel: formatDay(renewal.day) },
    lastFixAt: r.last_located_at ? r.last_located_at.toISOString() : null,
    lastFixLabel: formatDateTime(r.last_located_at, actor.timeZone),
    lastFixCsv: csvDateTime(r.last_located_at, actor.timeZone),
  };
}

const cursorOf = (r: ListDbRow): string =>
  encodeCursor({ customerId: r.customer_id, groupPath: r.group_path, identifier: r.identifier, id: r.id });

/**
 * One page of the assets in the actor's reach ('asset.view'), or of one customer's for staff
 * ('asset.staff_view' with filter.customerId), with the tab counts; one round trip.
 */
export async function listAssets(db: Db, actor: Actor, filter: AssetListFilter): Promise<AssetList> {
  authorizeList(actor, filter);
  const trx = builder(db);
  const statements = [
    assetListQuery(trx, actor, filter).toQuery(),
    tabCountsQuery(trx, actor, filter.customerId, filter.groupId).toQuery(),
  ];
  if (filter.customerId) statements.push(customerQuery(trx, actor, filter.customerId).toQuery());
  const searching = !!searchTermOf(filter.q);
  const results = await queryInTenant(db, actor.tenantId, searching ? [SEARCH_PLANNING, ...statements] : statements);
  const [page, countRows, customerRows] = searching ? results.slice(1) : results;
  const customer = (customerRows?.rows[0] as { id: string; title: string } | undefined) ?? null;
  if (filter.customerId && !customer) throw new NotFoundError();

  let rows = page!.rows as ListDbRow[];
  const backward = !filter.after && !!filter.before;
  // a page before the first: show the first page, full, rather than a short one
  if (backward && rows.length < filter.size) return listAssets(db, actor, { ...filter, before: null });
  const more = rows.length > filter.size;
  rows = rows.slice(0, filter.size);
  if (backward) rows.reverse();
  const first = rows[0];
  const last = rows[rows.length - 1];
  const { counts, spans } = countsFrom(countRows!.rows as CountRow[]);
  const q = filter.q;
  const searchTerm = searchTermOf(q);
  return {
    tab: filter.tab,
    q,
    size: filter.size,
    searchTerm,
    searchHint: q && !searchTerm ? SEARCH_HINT : null,
    rows: rows.map((r) => shapeRow(r, actor, filter.today)),
    nextCursor: last && (backward || more) ? cursorOf(last) : null,
    prevCursor: first && (backward ? more : !!filter.after) ? cursorOf(first) : null,
    position: {
      after: filter.after ? encodeCursor(filter.after) : null,
      before: backward && filter.before ? encodeCursor(filter.before) : null,
    },
    pastTheEnd: !rows.length && !!(filter.after || filter.before),
    spansGroups: spans[filter.tab].groups > 1,
    spansCustomers: maySpanCustomers(actor, filter) && spans[filter.tab].customers > 1,
    counts,
    customer,
    today: filter.today,
  };
}

/** The CSV's columns, the table's: the same for the page and the whole set. */
export function csvHeadings(withCustomer: boolean, timeZone: string): string[] {
  return [
    'Identifier',
    'Name',
    'Group',
    ...(withCustomer ? ['Customer'] : []),
    'Status',
    'Plan',
    'Renewal date',
    'Renewal',
    `Last position time (${timeZone})`,
  ];
}

export function assetsCsvFilename(filter: Pick<AssetListFilter, 'tab' | 'today'>): string {
  return `assets-${filter.tab}-${filter.today}.csv`;
}

/** "Export this page": the rows listAssets shows, as CSV. */
export async function assetsPageCsv(
  db: Db,
  actor: Actor,
  filter: AssetListFilter,
): Promise<{ filename: string; body: string }> {
  const list = await listAssets(db, actor, filter);
  const lines = [csvLine(csvHeadings(list.spansCustomers, actor.timeZone))];
  for (const r of list.rows) {
    lines.push(
      csvLine([
        r.identifier,
        r.name,
        r.groupPath,
        ...(list.spansCustomers ? [r.customerTitle] : []),
        r.statusLabel,
        r.planLabel,
        r.renewal.day,
        r.renewal.text,
        r.lastFixCsv,
      ]),
    );
  }
  return { filename: assetsCsvFilename(filter), body: lines.join('') };
}

/** SQL for a label lookup: `case column when value then label ... end`, labels as bindings. */
function caseOf(column: string, labels: Record<string, string>): { sql: string; bindings: string[] } {
  const entries = Object.entries(labels);
  return {
    sql: `case ${column} ${entries.map(() => 'when ? then ?').join(' ')} else ${column} end`,
    bindings: entries.flat(),
  };
}

/** The whole filtered set with the table's columns, as CSV cells computed by PostgreSQL. */
function csvQuery(trx: Trx, actor: Actor, filter: AssetListFilter, withCustomer: boolean): Knex.QueryBuilder {
  const status = caseOf('a.status', ASSET_STATUS_LABELS);
  const plan = caseOf('a.plan', PLAN_LABELS);
  const renews = `(a.status = 'active' or (a.status = 'deactivation_pending' and a.renewal_unconfirmed))`;
  const headings = csvHeadings(withCustomer, actor.timeZone);
  const h = (i: number) => headings[i]!;
  const cols: Knex.Raw[] = [
    trx.raw(`${neutralisedSql('a.identifier')} as ??`, [h(0)]),
    trx.raw(`${neutralisedSql('a.name')} as ??`, [h(1)]),
    trx.raw(`${neutralisedSql('a.group_path')} as ??`, [h(2)]),
  ];
  if (withCustomer)
    cols.push(
      trx.raw(
        `${neutralisedSql('(select c.title from customers c where c.tenant_id = a.tenant_id and c.id = a.customer_id)')} as ??`,
        [h(3)],
      ),
    );
  const i = withCustomer ? 4 : 3;
  cols.push(
    trx.raw(`${status.sql} as ??`, [...status.bindings, h(i)]),
    trx.raw(`${plan.sql} as ??`, [...plan.bindings, h(i + 1)]),
    // mirrors listRenewal and renewalState
    trx.raw(
      `case when ${renews} and a.plan <> 'monthly' and a.next_renewal_on is not null then to_char(a.next_renewal_on, 'YYYY-MM-DD') end as ??`,
      [h(i + 2)],
    ),
    trx.raw(
      `case when a.status = 'deactivation_pending' and not a.renewal_unconfirmed then ? when not ${renews} then ?
        when a.plan = 'monthly' or a.next_renewal_on is null then ? when a.renewal_unconfirmed then ?
        when a.next_renewal_on between ?::date and ?::date + ? then ? else ? end as ??`,
      [
        NO_RENEWAL_TEXT.deactivating,
        NO_RENEWAL_TEXT.inactive,
        RENEWAL_STATE_TEXT.none,
        RENEWAL_STATE_TEXT.unconfirmed,
        filter.today,
        filter.today,
        RENEWAL_WARNING_DAYS,
        RENEWAL_STATE_TEXT.due_soon,
        RENEWAL_STATE_TEXT.scheduled,
        h(i + 3),
      ],
    ),
    trx.raw(`to_char(a.last_located_at at time zone ?, 'YYYY-MM-DD HH24:MI') as ??`, [actor.timeZone, h(i + 4)]),
  );
  return filteredAssets(trx, actor, filter)
    .select(cols)
    .orderBy(ORDER.map((c) => `a.${c}`));
}

export type AssetsCsvStream = { filename: string; stream: Readable };

/**
 * "Export all": the whole filtered set, streamed by PostgreSQL's COPY with flat memory. Resolves
 * once the first bytes are ready (so a refusal comes before any header is sent); the stream owns
 * its connection: at its end the transaction commits, and if it is destroyed first (the client went
 * away, or `signal` aborted) the query is cancelled and the connection thrown away.
 */
export async function streamAssetsCsv(
  db: Db,
  actor: Actor,
  filter: AssetListFilter,
  opts: { signal?: AbortSignal } = {},
): Promise<AssetsCsvStream> {
  authorizeList(actor, filter);
  const trx = builder(db);
  const conn = await openTenantConnection(db, actor.tenantId);
  let copy: Readable;
  try {
    if (
      filter.customerId &&
      !(await conn.client.query(customerQuery(trx, actor, filter.customerId).toQuery())).rows.length
    )
      throw new NotFoundError();
    const { spans } = countsFrom(
      (await conn.client.query(tabCountsQuery(trx, actor, filter.customerId, filter.groupId).toQuery()))
        .rows as CountRow[],
    );
    const withCustomer = maySpanCustomers(actor, filter) && spans[filter.tab].customers > 1;
    // COPY takes no parameters, so the query goes as text: knex's toQuery() inlines every binding
    // escaped as a literal (quotes doubled, E'' when there is a backslash), never spliced raw
    const select = csvQuery(trx, actor, filter, withCustomer).toQuery();
    copy = conn.client.query(copyTo(`copy (${select}) to stdout with (format csv, header)`));
    await firstBytes(copy);
  } catch (err) {
    await conn.abandon();
    throw err;
  }
  finished(copy, (err) => void (err ? conn.abandon() : conn.finish()).catch(() => {}));
  if (opts.signal) {
    if (opts.signal.aborted) copy.destroy();
    else opts.signal.addEventListener('abort', () => copy.destroy(), { once: true });
  }
  return { filename: assetsCsvFilename(filter), stream: copy };
}

function firstBytes(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const ready = () => {
      stream.off('error', fail);
      resolve();
    };
    const fail = (err: Error) => {
      stream.off('readable', ready);
      reject(err);
    };
    stream.once('readable', ready);
    stream.once('error', fail);
  });
}
