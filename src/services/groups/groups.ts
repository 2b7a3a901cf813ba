import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { boundedCountLabel, DUE_COUNT_BOUND, dueWindowEnd, type GroupListQuery, type GroupTab } from './rules.js';
import { ancestorsOf } from './tree.js';
import { findGroupInScope, type GroupRow } from './group-row.js';
import { usersOf, type GroupUsers } from './group-users.js';
import { type Actor, asActor, authorize, scopeGroups } from '../access/index.js';
import type { Day } from '../assets/subscription-rules.js';

/** The Groups page and a group's page: the groups in the actor's reach (scopeGroups) with their counts. */

export type GroupSummary = {
  id: string;
  customerId: string;
  customerTitle: string;
  parentId: string | null;
  name: string;
  path: string;
  reference: string | null;
  enabled: boolean;
  /** status active, in the group and its sub-groups */
  activeAssets: number;
  /**
   * active yearly or quarterly renewing within 28 days, in the group and its sub-groups;
   * DUE_COUNT_BOUND + 1 means "more"
   */
  dueSoon: number;
  dueSoonLabel: string;
  subGroups: number;
  /** the provider switched the devices map on for the group's customer */
  mapEnabled: boolean;
};

export type GroupList = GroupListQuery & {
  rows: GroupSummary[];
  counts: Record<GroupTab, number>;
  hasNext: boolean;
  spansCustomers: boolean;
};

type SummaryRow = {
  id: string;
  customer_id: string;
  customer_title: string;
  parent_id: string | null;
  name: string;
  path: string;
  reference: string | null;
  enabled: boolean;
  active_assets: number;
  due_soon: number;
  sub_groups: number;
  map_enabled: boolean;
};

const summaryOf = (r: SummaryRow): GroupSummary => ({
  id: r.id,
  customerId: r.customer_id,
  customerTitle: r.customer_title,
  parentId: r.parent_id,
  name: r.name,
  path: r.path,
  reference: r.reference,
  enabled: r.enabled,
  activeAssets: Number(r.active_assets),
  dueSoon: r.due_soon,
  dueSoonLabel: boundedCountLabel(r.due_soon),
  subGroups: r.sub_groups,
  mapEnabled: r.map_enabled,
});

type Scope = { parentId?: string; id?: string };

/**
 * The CTEs every groups query starts from: `scope` (the groups listed, from the actor's scope),
 * `tree` (each of them with itself and every group below: root, id) and `active` (active assets
 * per root, summed from asset_counts).
 */
function treeCtes(trx: Trx, actor: Actor, only: Scope = {}) {
  const scope = scopeGroups(trx, actor, 'g').select('g.id', 'g.customer_id');
  if (only.parentId) scope.where('g.parent_id', only.parentId);
  if (only.id) scope.where('g.id', only.id);
  return {
    sql: `scope as (?), tree (root, id, customer_id) as (
        select id, id, customer_id from scope
        union all
        select t.root, c.id, c.customer_id from tree t join groups c on c.tenant_id = ? and c.parent_id = t.id
      ), active as (
        select t.root, sum(ac.n)::bigint as n
          from tree t join asset_counts ac on ac.tenant_id = ? and ac.customer_id = t.customer_id
                                          and ac.group_key = t.id and ac.status = 'active'
         group by t.root
      )`,
    bindings: [scope, actor.tenantId, actor.tenantId] as Knex.RawBinding[],
  };
}

/**
 * One page of groups with their counts; the due-for-renewal counts run only for the page's rows.
 * Counts cover the group AND its sub-groups: a group's people reach its sub-groups, its page lists
 * their assets, and its renewal reminders cover them. Active assets come from the asset_counts
 * counters; "due for renewal" is a count bounded at 1,001 per group over assets_group_renewal_idx.
 */
async function summaries(
  trx: Trx,
  actor: Actor,
  today: Day,
  opts: Scope & { tab?: GroupTab; limit: number; offset?: number },
): Promise<SummaryRow[]> {
  const ctes = treeCtes(trx, actor, opts);
  const { rows } = await trx.raw<{ rows: SummaryRow[] }>(
    `with recursive ${ctes.sql}, listed as (
       select g.id, g.tenant_id, g.customer_id, g.parent_id, g.name, g.path, g.reference, g.enabled,
              c.title as customer_title, c.map_enabled, coalesce(a.n, 0)::bigint as active_assets
         from scope s
         join groups g on g.tenant_id = ? and g.id = s.id
         join customers c on c.tenant_id = g.tenant_id and c.id = g.customer_id
         left join active a on a.root = s.id
        where (?::boolean or coalesce(a.n, 0) > 0)
        order by c.title, g.customer_id, g.path, g.id
        limit ? offset ?
     )
     select l.*,
       (select count(*) from groups k where k.tenant_id = l.tenant_id and k.parent_id = l.id)::int as sub_groups,
       (select count(*) from (
          select 1 from assets x
           where x.tenant_id = l.tenant_id and x.group_id = any(array(select t.id from tree t where t.root = l.id))
             and x.status = 'active' and x.next_renewal_on between ?::date and ?::date
             and x.plan <> 'monthly'
           limit ?) d)::int as due_soon
       from listed l
      order by l.customer_title, l.customer_id, l.path, l.id`,
    [
      ...ctes.bindings,
      actor.tenantId,
      opts.tab !== 'active',
      opts.limit,
      opts.offset ?? 0,
      today,
      dueWindowEnd(today),
      DUE_COUNT_BOUND + 1,
    ],
  );
  return rows;
}

/** The Groups page: the groups in the actor's reach, All or Active, a page at a time. */
export async function listGroups(db: Db, actor: Actor, query: GroupListQuery, today: Day): Promise<GroupList> {
  authorize(actor, 'group.view');
  return asActor(db, actor, async (trx) => {
    const ctes = treeCtes(trx, actor);
    const { rows: countRows } = await trx.raw<{ rows: { all: number; active: number; customers: number }[] }>(
      `with recursive ${ctes.sql}
       select count(*)::int as "all", count(*) filter (where a.n > 0)::int as active,
              count(distinct s.customer_id)::int as customers
         from scope s left join active a on a.root = s.id`,
      ctes.bindings,
    );
    const counts = countRows[0]!;
    const rows = await summaries(trx, actor, today, {
      tab: query.tab,
      limit: query.size + 1,
      offset: (query.page - 1) * query.size,
    });
    return {
      ...query,
      rows: rows.slice(0, query.size).map(summaryOf),
      counts: { all: counts.all, active: counts.active },
      hasNext: rows.length > query.size,
      spansCustomers: counts.customers > 1,
    };
  });
}

export type GroupDetail = {
  group: GroupSummary;
  /** groups above it that the actor reaches, top first, for the breadcrumbs */
  ancestors: { id: string; name: string }[];
  subGroups: GroupSummary[];
  users: GroupUsers;
};

/** Sub-groups shown on a group's page; a group with more is a list to page, not a page section. */
export const SUB_GROUPS_SHOWN = 500;

/** A group's page: its counts, its place in the tree, its sub-groups (listed like groups) and its people. */
export async function getGroup(db: Db, actor: Actor, id: string, today: Day): Promise<GroupDetail> {
  authorize(actor, 'group.view');
  return asActor(db, actor, async (trx) => {
    const row = await findGroupInScope(trx, actor, id);
    const [self] = await summaries(trx, actor, today, { id: row.id, limit: 1 });
    const subGroups = await summaries(trx, actor, today, { parentId: row.id, limit: SUB_GROUPS_SHOWN });
    const above = await ancestorsOf(trx, actor.tenantId, row.parent_id);
    const reachable = new Set(
      above.length
        ? (
            (await scopeGroups(trx, actor, 'g')
              .whereIn(
                'g.id',
                above.map((a) => a.id),
              )
              .select('g.id')) as { id: string }[]
          ).map((g) => g.id)
        : [],
    );
    return {
      group: summaryOf(self!),
      ancestors: above.filter((a) => reachable.has(a.id)).map((a) => ({ id: a.id, name: a.name })),
      subGroups: subGroups.map(summaryOf),
      users: await usersOf(trx, actor, row),
    };
  });
}

export type GroupHeader = { id: string; name: string; path: string; customerTitle: string };
const headerOf = (row: GroupRow): GroupHeader => ({
  id: row.id,
  name: row.name,
  path: row.path,
  customerTitle: row.customer_title,
});

/** A group in the actor's reach, named; 404 otherwise. */
export async function getGroupHeader(db: Db, actor: Actor, id: string): Promise<GroupHeader> {
  authorize(actor, 'group.view');
  return asActor(db, actor, async (trx) => headerOf(await findGroupInScope(trx, actor, id)));
}

/** A group's people alone, for the users section when it is swapped in place. */
export async function getGroupUsers(
  db: Db,
  actor: Actor,
  id: string,
): Promise<{ group: GroupHeader; users: GroupUsers }> {
  authorize(actor, 'group.view');
  return asActor(db, actor, async (trx) => {
    const row = await findGroupInScope(trx, actor, id);
    return { group: headerOf(row), users: await usersOf(trx, actor, row) };
  });
}
