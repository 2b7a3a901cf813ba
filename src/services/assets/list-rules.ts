import { isUuid } from '../customers/rules.js';
import {
  cursorParam,
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  listHref,
  pageSizeOf,
} from '../platform/paging.js';
import type { AssetStatus } from './rules.js';
import { RENEWAL_STATE_TEXT, renewalState, type Day, type Plan, type RenewalState } from './subscription-rules.js';
import { cutText } from '../platform/text-rules.js';
import { english, msg, type Translator } from '../platform/i18n.js';

/** The asset list's state in the address bar (tab, search, keyset cursor, size), its renewal column and CSV formats. */

export const ASSET_TABS = ['all', 'active', 'activation-pending', 'deactivation-pending', 'inactive'] as const;
export type AssetTab = (typeof ASSET_TABS)[number];
export const ASSET_TAB_LABELS: Record<AssetTab, string> = {
  all: msg('All'),
  active: msg('Active'),
  'activation-pending': msg('Activation pending'),
  'deactivation-pending': msg('Deactivation pending'),
  inactive: msg('Inactive'),
};
/** `due=28d`: the assets whose renewal is due within four weeks (the renewal column's warning window). */
export const DUE_FILTERS = ['28d'] as const;
export type DueFilter = (typeof DUE_FILTERS)[number];

/** Shorter terms would match nearly everything and cannot use the trigram index. */
export const SEARCH_MIN_LENGTH = 2;
// a catalog message with SEARCH_MIN_LENGTH written out
export const SEARCH_HINT = msg('Type at least 2 characters to search.');

/** A position in the list: the sort values of one row. */
export type AssetCursor = { customerId: string; groupPath: string; identifier: string; id: string };

export type AssetListFilter = {
  tab: AssetTab;
  q: string;
  /** only the assets due for renewal within this window, or null for all */
  due?: DueFilter | null;
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
  const due = firstOf(raw.due);
  return {
    tab: (ASSET_TABS as readonly unknown[]).includes(tab) ? (tab as AssetTab) : 'all',
    q: typeof q === 'string' ? cutText(q.trim(), 200) : '',
    due: (DUE_FILTERS as readonly unknown[]).includes(due) ? (due as DueFilter) : null,
    after: cursorParam(raw.after, decodeAssetCursor),
    before: cursorParam(raw.before, decodeAssetCursor),
    size: pageSizeOf(raw.size),
    today,
  };
}

/** A row's position as the paging module's opaque cursor. */
export function encodeAssetCursor(c: AssetCursor): string {
  return encodeCursor([c.customerId, c.groupPath, c.identifier, c.id]);
}

/** The sort values of a cursor, when they can be a row's: two ids, a group path and an identifier within bounds. */
function readAssetCursor(values: unknown[]): AssetCursor | null {
  if (values.length !== 4 || !values.every((x) => typeof x === 'string')) return null;
  const [customerId, groupPath, identifier, id] = values as [string, string, string, string];
  if (!isUuid(customerId) || !isUuid(id) || groupPath.length > 1000 || identifier.length > 64) return null;
  return { customerId, groupPath, identifier, id };
}

/** A cursor from the address bar, or null when it is not one of ours. */
export function decodeAssetCursor(value: unknown): AssetCursor | null {
  return decodeCursor(value, readAssetCursor);
}

/** The search as matched: lowercased (search_text is), or null when too short to filter. */
export function searchTermOf(q: string): string | null {
  return q.length >= SEARCH_MIN_LENGTH ? q.toLowerCase() : null;
}

/** The address of a list state: only what differs from the defaults, in a fixed order. */
export function assetListHref(
  base: string,
  state: {
    tab?: AssetTab;
    q?: string;
    due?: DueFilter | null;
    size?: number;
    after?: string | null;
    before?: string | null;
    scope?: 'page';
  },
): string {
  const { tab, q, due, size, after, before, scope } = state;
  // `after` wins over `before`, as in the filter
  return listHref(
    base,
    { tab, q, due, size, after, before: after ? null : before, scope },
    { tab: 'all', size: DEFAULT_PAGE_SIZE },
  );
}

export type ListRenewal = { state: RenewalState; text: string; day: Day | null };

export const NO_RENEWAL_TEXT = {
  deactivating: msg('No renewal: a deactivation is pending'),
  inactive: msg('No renewal: the asset is not active'),
};

/**
 * The renewal column: only a running subscription renews (an asset being deactivated does not,
 * unless a renewal already happened and awaits confirmation). The CSV export's SQL mirrors this.
 */
export function listRenewal(
  a: { status: AssetStatus; plan: Plan; next_renewal_on: Day | null; renewal_unconfirmed: boolean },
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

/** The CSV's columns, the table's: the same for the page and the whole set. */
export function csvHeadings(withCustomer: boolean, timeZone: string, tr: Translator = english): string[] {
  return [
    tr.t('Identifier'),
    tr.t('Name'),
    tr.t('Group'),
    ...(withCustomer ? [tr.t('Customer')] : []),
    tr.t('Status'),
    tr.t('Plan'),
    tr.t('Renewal date'),
    tr.t('Renewal'),
    tr.t('Last position time ({zone})', { zone: timeZone }),
  ];
}

export function assetsCsvFilename(filter: Pick<AssetListFilter, 'tab' | 'today' | 'due'>): string {
  return `assets-${filter.tab}${filter.due ? '-due' : ''}-${filter.today}.csv`;
}
