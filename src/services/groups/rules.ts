import type { AssetStatus } from '../assets/rules.js';
import { isUuid } from '../customers/rules.js';
import { addDays, RENEWAL_WARNING_DAYS, type Day, type Plan } from '../assets/subscription-rules.js';
import { DEFAULT_PAGE_SIZE, listHref, pageSizeOf } from '../platform/paging.js';
import { msg } from '../platform/i18n.js';

/** Rules about groups that need no database: the form, paths, cycles, which groups count as active, what is due. */

export const GROUP_NAME_MAX = 200;
export const GROUP_REFERENCE_MAX = 200;
/** groups.path and assets.group_path are varchar(1000) */
export const GROUP_PATH_MAX = 1000;
export const PATH_SEPARATOR = ' / ';

export const GROUP_TABS = ['all', 'active'] as const;
export type GroupTab = (typeof GROUP_TABS)[number];
export const GROUP_TAB_LABELS: Record<GroupTab, string> = { all: msg('All'), active: msg('Active') };
/** Due-for-renewal counts stop here and read "1,000+": never a count over all of a group's assets per request. */
export const DUE_COUNT_BOUND = 1000;

// catalog messages; the limits are written out in them (GROUP_NAME_MAX, GROUP_REFERENCE_MAX, GROUP_PATH_MAX and
// PATH_SEPARATOR above), so a field's message stays a plain text
export const GROUP_MESSAGES = {
  name: msg('Enter a name for the group.'),
  nameLength: msg('Use at most 200 characters.'),
  nameSeparator: msg('A name cannot contain "/" between spaces: it separates groups in a path.'),
  reference: msg('Use at most 200 characters.'),
  parent: msg('Choose a parent group from the list, or none.'),
  customer: msg('Choose a customer from the list.'),
  cycle: msg('A group cannot be moved under itself or one of its own sub-groups.'),
  pathTaken: msg('There is already a group with this name here.'),
  pathLength: msg('The path of this group or one of its sub-groups would be longer than 1000 characters.'),
  users: msg('Choose users from the list: one of them cannot be assigned to this group.'),
} as const;

export type GroupForm = { name: string; reference: string; parent_id: string; customer_id: string; enabled: boolean };
export type GroupFields = {
  name: string;
  reference: string | null;
  parentId: string | null;
  customerId: string | null;
  enabled: boolean;
};

/** A form's values checked: the fields to save, or the messages per field. */
export function checkGroupForm(form: GroupForm): { fields: GroupFields; errors: Record<string, string> } {
  const name = form.name.trim();
  const reference = form.reference.trim();
  const errors: Record<string, string> = {};
  if (!name) errors.name = GROUP_MESSAGES.name;
  else if (name.length > GROUP_NAME_MAX) errors.name = GROUP_MESSAGES.nameLength;
  else if (name.includes(PATH_SEPARATOR)) errors.name = GROUP_MESSAGES.nameSeparator;
  if (reference.length > GROUP_REFERENCE_MAX) errors.reference = GROUP_MESSAGES.reference;
  const parentId = form.parent_id.trim() || null;
  if (parentId && !isUuid(parentId)) errors.parent_id = GROUP_MESSAGES.parent;
  const customerId = form.customer_id.trim() || null;
  if (customerId && !isUuid(customerId)) errors.customer_id = GROUP_MESSAGES.customer;
  return { fields: { name, reference: reference || null, parentId, customerId, enabled: form.enabled }, errors };
}

/** "Trucks / North": the parent's path, then the name. */
export function pathOf(parentPath: string | null, name: string): string {
  return parentPath ? `${parentPath}${PATH_SEPARATOR}${name}` : name;
}

/**
 * Would placing `groupId` under `newParentId` make a loop? It would when the new parent is the
 * group itself or lies anywhere below it: walking up from the new parent then reaches the group.
 * `parentOf` knows at least the new parent's ancestors.
 */
export function createsCycle(
  groupId: string,
  newParentId: string | null,
  parentOf: ReadonlyMap<string, string | null>,
): boolean {
  const seen = new Set<string>();
  for (let at = newParentId; at; at = parentOf.get(at) ?? null) {
    if (at === groupId) return true;
    if (seen.has(at)) return true; // the data already loops: refuse rather than walk forever
    seen.add(at);
  }
  return false;
}

/** The group and every group below it, by parent links. */
export function subtreeOf(groupId: string, groups: readonly { id: string; parentId: string | null }[]): Set<string> {
  const children = new Map<string, string[]>();
  for (const g of groups) if (g.parentId) children.set(g.parentId, [...(children.get(g.parentId) ?? []), g.id]);
  const out = new Set<string>();
  const stack = [groupId];
  while (stack.length) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    stack.push(...(children.get(id) ?? []));
  }
  return out;
}

export type AssetCounter = { groupId: string; status: AssetStatus; n: number };

/**
 * A group's active assets: those with status active (the asset list's Active tab) in the group
 * itself AND in its sub-groups, since a group's people and page reach its sub-groups too.
 */
export function activeAssetsOf(
  groupId: string,
  groups: readonly { id: string; parentId: string | null }[],
  counters: readonly AssetCounter[],
): number {
  const tree = subtreeOf(groupId, groups);
  return counters.filter((c) => c.status === 'active' && tree.has(c.groupId)).reduce((sum, c) => sum + c.n, 0);
}

/** A group is active when at least one asset in it or in its sub-groups is active. */
export function isActiveGroup(activeAssets: number): boolean {
  return activeAssets > 0;
}

export type RenewalFacts = { status: AssetStatus; plan: Plan; nextRenewalOn: Day | null; renewalUnconfirmed: boolean };

/** The last day a renewal counts as due when seen on `today` (today + 28). */
export function dueWindowEnd(today: Day): Day {
  return addDays(today, RENEWAL_WARNING_DAYS);
}

/**
 * Due for renewal within 28 days: an active yearly or quarterly subscription renewing between
 * today and today + 28, both included, one that renewed itself and awaits confirmation too
 * (DESIGN section 10, `due=28d`). The SQL count and the asset list's `due` filter mirror this.
 */
export function isDueForRenewal(a: RenewalFacts, today: Day): boolean {
  if (a.status !== 'active' || a.plan === 'monthly' || !a.nextRenewalOn) return false;
  return a.nextRenewalOn >= today && a.nextRenewalOn <= dueWindowEnd(today);
}

/** "12", or "1,000+" above the bound. */
export function boundedCountLabel(n: number, bound = DUE_COUNT_BOUND): string {
  const f = new Intl.NumberFormat('en-GB');
  return n > bound ? `${f.format(bound)}+` : f.format(n);
}

const firstOf = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);

export type GroupListQuery = { tab: GroupTab; page: number; size: number };

/** List state from a query string; anything odd falls back to all groups, first page, 25. */
export function groupListQueryFrom(raw: Record<string, unknown>): GroupListQuery {
  const tab = firstOf(raw.tab);
  const page = Number(firstOf(raw.page));
  return {
    tab: (GROUP_TABS as readonly unknown[]).includes(tab) ? (tab as GroupTab) : 'all',
    page: Number.isSafeInteger(page) && page >= 1 && page <= 100_000 ? page : 1,
    size: pageSizeOf(raw.size),
  };
}

/** The address of a list state, without the page (the pagination adds it): only what differs from the defaults. */
export function groupListHref(state: { tab?: GroupTab; size?: number }): string {
  return listHref('/groups', { tab: state.tab, size: state.size }, { tab: 'all', size: DEFAULT_PAGE_SIZE });
}

/** The user ids a form sent: one or many `user_ids`, deduplicated; null when one of them is not an id at all. */
export function submittedIds(value: unknown, max = 1000): string[] | null {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  if (list.length > max || !list.every(isUuid)) return null;
  return [...new Set(list.map((v) => v.toLowerCase()))];
}
