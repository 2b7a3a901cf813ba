import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { groupDepths, groupOptionLabel } from '../assets/rules.js';
import { audit } from '../platform/index.js';
import { escapeLike, isUuid } from '../customers/rules.js';
import {
  boundedCountLabel,
  checkGroupForm,
  createsCycle,
  DUE_COUNT_BOUND,
  dueWindowEnd,
  GROUP_MESSAGES,
  GROUP_PATH_MAX,
  pathOf,
  type GroupFields,
  type GroupForm,
  type GroupListQuery,
  type GroupTab,
} from './rules.js';
import { subtreeIds } from './tree.js';
import {
  type Actor,
  asActor,
  authorize,
  customerIdsInReach,
  type Role,
  ROLE_LABELS,
  scopeGroups,
} from '../access/index.js';
import type { Day } from '../assets/subscription-rules.js';
import { STATUS_LABELS, type UserStatus } from '../people/rules.js';

/**
 * Groups of a customer's assets: the list with its counts, a group's page, creating, renaming and
 * moving groups (paths rewritten set-based, assets' copies included, in one transaction), and the
 * users assigned to a group. Every query starts from the actor's scope (policy.scopeGroups).
 *
 * Counts cover the group AND its sub-groups: a group's people reach its sub-groups, its page lists
 * their assets, and its renewal reminders cover them. Active assets come from the asset_counts
 * counters; "due for renewal" is a count bounded at 1,001 per group over assets_group_renewal_idx.
 */

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
  /** active yearly or quarterly renewing within 28 days, in the group and its sub-groups; DUE_COUNT_BOUND + 1 means "more" */
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
          from tree t join asset_counts ac on ac.tenant_id = ? and ac.customer_id = t.customer_id and ac.group_key = t.id and ac.status = 'active'
         group by t.root
      )`,
    bindings: [scope, actor.tenantId, actor.tenantId] as Knex.RawBinding[],
  };
}

/** One page of groups with their counts; the due-for-renewal counts run only for the page's rows. */
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
             and x.plan <> 'monthly' and not x.renewal_unconfirmed
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
       select count(*)::int as "all", count(*) filter (where a.n > 0)::int as active, count(distinct s.customer_id)::int as customers
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

export type GroupUser = {
  membershipId: string;
  userId: string;
  name: string;
  email: string;
  role: Role;
  roleLabel: string;
  status: UserStatus;
  statusLabel: string;
};
export type InheritedUser = GroupUser & { via: { id: string; path: string } };
export type GroupUsers = { assigned: GroupUser[]; inherited: InheritedUser[] };

type UserRow = {
  membership_id: string;
  user_id: string;
  name: string;
  email: string;
  role: Role;
  status: UserStatus;
  via_id?: string;
  via_path?: string;
};

const userOf = (r: UserRow): GroupUser => ({
  membershipId: r.membership_id,
  userId: r.user_id,
  name: r.name,
  email: r.email,
  role: r.role,
  roleLabel: ROLE_LABELS[r.role] ?? r.role,
  status: r.status,
  statusLabel: STATUS_LABELS[r.status] ?? r.status,
});

/** What the audit log keeps of a user list: who, never anything secret. */
const auditUsers = (users: GroupUser[]) =>
  users.map((u) => ({ userId: u.userId, name: u.name, email: u.email, role: u.role }));

const USER_COLUMNS = ['m.id as membership_id', 'u.id as user_id', 'u.name', 'u.email', 'm.role', 'u.status'];

function assignedUsersQuery(trx: Trx, tenantId: string, groupIds: string[]) {
  return trx('membership_groups as mg')
    .join('memberships as m', function () {
      this.on('m.tenant_id', 'mg.tenant_id').andOn('m.id', 'mg.membership_id');
    })
    .join('users as u', 'u.id', 'm.user_id')
    .where('mg.tenant_id', tenantId)
    .whereIn('mg.group_id', groupIds)
    .orderByRaw('lower(u.name), lower(u.email), m.id');
}

/** The people of a group: assigned to it, and assigned to a group above it (they reach it too). */
async function usersOf(trx: Trx, actor: Actor, group: GroupRow): Promise<GroupUsers> {
  const assigned = ((await assignedUsersQuery(trx, actor.tenantId, [group.id]).select(USER_COLUMNS)) as UserRow[]).map(
    userOf,
  );
  const ancestors = await ancestorsOf(trx, actor.tenantId, group.parent_id);
  const inheritedRows = ancestors.length
    ? ((await assignedUsersQuery(
        trx,
        actor.tenantId,
        ancestors.map((a) => a.id),
      )
        .join('groups as vg', function () {
          this.on('vg.tenant_id', 'mg.tenant_id').andOn('vg.id', 'mg.group_id');
        })
        .select([...USER_COLUMNS, 'vg.id as via_id', 'vg.path as via_path'])) as UserRow[])
    : [];
  const seen = new Set(assigned.map((u) => u.membershipId));
  const inherited: InheritedUser[] = [];
  for (const r of inheritedRows) {
    if (seen.has(r.membership_id)) continue;
    seen.add(r.membership_id);
    inherited.push({ ...userOf(r), via: { id: r.via_id!, path: r.via_path! } });
  }
  return { assigned, inherited };
}

/** The memberships a group may be given: group admins and supervisors of the group's own customer, active or not yet activated. */
function assignableQuery(trx: Trx, actor: Actor, customerId: string) {
  return trx('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .where({ 'm.tenant_id': actor.tenantId, 'm.customer_id': customerId })
    .whereIn('m.role', ['group_admin', 'group_supervisor'])
    .whereIn('u.status', ['active', 'pending']);
}

export type GroupRow = {
  id: string;
  tenant_id: string;
  customer_id: string;
  parent_id: string | null;
  name: string;
  path: string;
  reference: string | null;
  enabled: boolean;
  customer_title: string;
  map_enabled: boolean;
};

const GROUP_COLUMNS = [
  'g.id',
  'g.tenant_id',
  'g.customer_id',
  'g.parent_id',
  'g.name',
  'g.path',
  'g.reference',
  'g.enabled',
  'c.title as customer_title',
  'c.map_enabled',
];

/** A group in the actor's reach, with its customer; 404 otherwise (ids that are not uuids included). */
export async function findGroupInScope(
  trx: Trx,
  actor: Actor,
  id: string,
  lock?: 'update' | 'share',
): Promise<GroupRow> {
  if (!isUuid(id)) throw new NotFoundError();
  const q = scopeGroups(trx, actor, 'g')
    .join('customers as c', function () {
      this.on('c.tenant_id', 'g.tenant_id').andOn('c.id', 'g.customer_id');
    })
    .where('g.id', id)
    .first<GroupRow | undefined>(GROUP_COLUMNS);
  if (lock === 'update') q.forUpdate('g');
  if (lock === 'share') q.forShare('g');
  const group = await q;
  if (!group) throw new NotFoundError();
  return group;
}

/** The groups above one, nearest last (for breadcrumbs and inherited users). */
async function ancestorsOf(
  trx: Trx,
  tenantId: string,
  parentId: string | null,
): Promise<{ id: string; parent_id: string | null; name: string; path: string }[]> {
  if (!parentId) return [];
  const { rows } = await trx.raw<{
    rows: { id: string; parent_id: string | null; name: string; path: string; depth: number }[];
  }>(
    `with recursive up (id, parent_id, name, path, depth) as (
       select g.id, g.parent_id, g.name, g.path, 0 from groups g where g.tenant_id = ? and g.id = ?
       union all
       select p.id, p.parent_id, p.name, p.path, u.depth + 1 from groups p join up u on p.id = u.parent_id
        where p.tenant_id = ? and u.depth < 100
     )
     select id, parent_id, name, path, depth from up order by depth desc`,
    [tenantId, parentId, tenantId],
  );
  return rows;
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

export type GroupChoice = { id: string; customerId: string; label: string; path: string };
export type CustomerChoice = { id: string; title: string };

async function groupChoices(
  trx: Trx,
  actor: Actor,
  opts: { customerId?: string; excluding?: string } = {},
): Promise<GroupChoice[]> {
  const q = scopeGroups(trx, actor, 'g')
    .join('customers as c', function () {
      this.on('c.tenant_id', 'g.tenant_id').andOn('c.id', 'g.customer_id');
    })
    .orderBy([{ column: 'c.title' }, { column: 'g.customer_id' }, { column: 'g.path' }, { column: 'g.id' }])
    .select('g.id', 'g.parent_id', 'g.customer_id', 'g.name', 'g.path', 'c.title as customer_title');
  if (opts.customerId) q.where('g.customer_id', opts.customerId);
  if (opts.excluding) q.whereRaw('not (g.id = any(array(?)))', [subtreeIds(trx, actor.tenantId, opts.excluding)]);
  const rows = (await q) as {
    id: string;
    parent_id: string | null;
    customer_id: string;
    name: string;
    path: string;
    customer_title: string;
  }[];
  const depths = groupDepths(rows);
  const several = new Set(rows.map((r) => r.customer_id)).size > 1;
  return rows.map((g) => ({
    id: g.id,
    customerId: g.customer_id,
    path: g.path,
    label: (several && !g.parent_id ? `${g.customer_title}: ` : '') + groupOptionLabel(g.name, depths.get(g.id) ?? 0),
  }));
}

/** What the "create group" form offers: the customers a top-level group can belong to, and the possible parents. */
export async function newGroupChoices(
  db: Db,
  actor: Actor,
): Promise<{ customers: CustomerChoice[]; parents: GroupChoice[] }> {
  authorize(actor, 'group.manage');
  return asActor(db, actor, async (trx) => ({
    customers: (await trx('customers')
      .where('tenant_id', actor.tenantId)
      .whereIn('id', customerIdsInReach(trx, actor))
      .orderByRaw('parent_id is not null, lower(title)')
      .select('id', 'title')) as CustomerChoice[],
    parents: await groupChoices(trx, actor),
  }));
}

/** The edit form: the group as it is, and the parents it may move under (its own customer's groups, not itself or below it). */
export async function groupForEdit(
  db: Db,
  actor: Actor,
  id: string,
): Promise<{ group: GroupRow; parents: GroupChoice[] }> {
  authorize(actor, 'group.manage');
  return asActor(db, actor, async (trx) => {
    const group = await findGroupInScope(trx, actor, id);
    return { group, parents: await groupChoices(trx, actor, { customerId: group.customer_id, excluding: group.id }) };
  });
}

/** What the audit log keeps of a group. */
const snapshot = (
  g: Pick<GroupRow, 'id' | 'customer_id' | 'parent_id' | 'name' | 'path' | 'reference' | 'enabled'>,
) => ({
  id: g.id,
  customerId: g.customer_id,
  parentId: g.parent_id,
  name: g.name,
  path: g.path,
  reference: g.reference,
  enabled: g.enabled,
});

async function pathTaken(
  trx: Trx,
  tenantId: string,
  customerId: string,
  path: string,
  exceptSubtreeOf?: string,
): Promise<boolean> {
  const q = trx('groups')
    .where({ tenant_id: tenantId, customer_id: customerId })
    .whereRaw('lower(path) = lower(?)', [path]);
  if (exceptSubtreeOf) q.whereRaw('not (id = any(array(?)))', [subtreeIds(trx, tenantId, exceptSubtreeOf)]);
  return !!(await q.first('id'));
}

/** The parent a form chose, locked against a concurrent rename (which then commits first, so its path is the one read). */
async function chosenParent(
  trx: Trx,
  actor: Actor,
  fields: GroupFields,
  errors: Record<string, string>,
): Promise<GroupRow | null> {
  if (!fields.parentId || errors.parent_id) return null;
  try {
    return await findGroupInScope(trx, actor, fields.parentId, 'share');
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    errors.parent_id = GROUP_MESSAGES.parent;
    return null;
  }
}

/** Creates a group (a sub-group when a parent is chosen, in the parent's customer). */
export async function createGroup(db: Db, actor: Actor, form: GroupForm): Promise<GroupRow> {
  authorize(actor, 'group.manage');
  const { fields, errors } = checkGroupForm(form);
  return asActor(db, actor, async (trx) => {
    const parent = await chosenParent(trx, actor, fields, errors);
    let customerId = parent?.customer_id ?? fields.customerId ?? actor.customerId;
    if (!parent && !errors.customer_id) {
      const inReach = await trx('customers')
        .where({ tenant_id: actor.tenantId, id: customerId })
        .whereIn('id', customerIdsInReach(trx, actor))
        .first('id');
      if (!inReach) errors.customer_id = GROUP_MESSAGES.customer;
    }
    const path = pathOf(parent?.path ?? null, fields.name);
    if (!errors.name && !errors.parent_id && path.length > GROUP_PATH_MAX) errors.name = GROUP_MESSAGES.pathLength;
    if (!Object.keys(errors).length && (await pathTaken(trx, actor.tenantId, customerId!, path)))
      errors.name = GROUP_MESSAGES.pathTaken;
    if (Object.keys(errors).length) throw new ValidationError(errors);
    customerId = customerId!;
    const [row] = await trx('groups')
      .insert({
        tenant_id: actor.tenantId,
        customer_id: customerId,
        parent_id: parent?.id ?? null,
        name: fields.name,
        reference: fields.reference,
        enabled: fields.enabled,
        path,
      })
      .returning<{ id: string }[]>('id');
    const group = await findGroupInScope(trx, actor, row!.id);
    await audit(trx, actor, {
      entityType: 'group',
      entityId: group.id,
      action: 'group.created',
      customerId,
      after: snapshot(group),
    });
    return group;
  });
}

export type GroupUpdate = { group: GroupRow; renamedAssets: number };

/**
 * Changes a group's name, reference, enabled flag and parent. A new name or parent rewrites the
 * path of the group and of every group below it, and the copies on their assets, set-based in the
 * same transaction; the subtree is locked first, so a concurrent change waits and then sees the new paths.
 */
export async function updateGroup(db: Db, actor: Actor, id: string, form: GroupForm): Promise<GroupUpdate> {
  authorize(actor, 'group.manage');
  const { fields, errors } = checkGroupForm(form);
  return asActor(db, actor, async (trx) => {
    const before = await findGroupInScope(trx, actor, id, 'update');
    const parent = await chosenParent(trx, actor, fields, errors);
    if (parent && parent.customer_id !== before.customer_id) errors.parent_id = GROUP_MESSAGES.parent;
    if (parent && !errors.parent_id) {
      const chain = await ancestorsOf(trx, actor.tenantId, parent.id);
      if (createsCycle(before.id, parent.id, new Map(chain.map((g) => [g.id, g.parent_id]))))
        errors.parent_id = GROUP_MESSAGES.cycle;
    }
    const path = pathOf(parent?.path ?? null, fields.name);
    const moved = (parent?.id ?? null) !== before.parent_id;
    let renamedAssets = 0;
    if (!Object.keys(errors).length && path !== before.path) {
      const subtree = subtreeIds(trx, actor.tenantId, before.id);
      // lock the whole subtree, in one order, before reading its paths
      const locked = (await trx('groups')
        .where('tenant_id', actor.tenantId)
        .whereRaw('id = any(array(?))', [subtree])
        .orderBy('id')
        .forUpdate()
        .select('path')) as { path: string }[];
      const longest = Math.max(...locked.map((g) => g.path.length));
      if (longest - before.path.length + path.length > GROUP_PATH_MAX) errors.name = GROUP_MESSAGES.pathLength;
      else if (await pathTaken(trx, actor.tenantId, before.customer_id, path, before.id))
        errors.name = GROUP_MESSAGES.pathTaken;
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);

    await trx('groups')
      .where({ tenant_id: actor.tenantId, id: before.id })
      .update({
        name: fields.name,
        reference: fields.reference,
        enabled: fields.enabled,
        parent_id: parent?.id ?? null,
        updated_at: trx.fn.now(),
      });
    if (path !== before.path) renamedAssets = await rewritePaths(trx, actor.tenantId, before.id, path);
    const after = await findGroupInScope(trx, actor, before.id);
    const entry = {
      entityType: 'group',
      entityId: before.id,
      customerId: before.customer_id,
      before: snapshot(before),
      after: snapshot(after),
    };
    if (moved) await audit(trx, actor, { ...entry, action: 'group.moved' });
    else await audit(trx, actor, { ...entry, action: 'group.updated' });
    return { group: after, renamedAssets };
  });
}

/** New paths for a group and everything below it, then the same paths copied onto their assets. */
async function rewritePaths(trx: Trx, tenantId: string, groupId: string, path: string): Promise<number> {
  await trx.raw(
    `with recursive sub (id, path) as (
       select g.id, ?::varchar from groups g where g.tenant_id = ? and g.id = ?
       union all
       select c.id, (s.path || ? || c.name)::varchar from groups c join sub s on c.parent_id = s.id where c.tenant_id = ?
     )
     update groups g set path = sub.path, updated_at = now()
       from sub where g.tenant_id = ? and g.id = sub.id and g.path is distinct from sub.path`,
    [path, tenantId, groupId, ' / ', tenantId, tenantId],
  );
  const result = await trx.raw(
    `update assets a set group_path = g.path
       from groups g
      where g.tenant_id = ? and g.id = any(array(?)) and a.tenant_id = ? and a.group_id = g.id and a.group_path <> g.path`,
    [tenantId, subtreeIds(trx, tenantId, groupId), tenantId],
  );
  return (result as { rowCount: number }).rowCount;
}

/** The people who could be added to a group: matching name or email, not already chosen. */
export const USER_OPTIONS_SHOWN = 10;

export type UserOptions = { group: GroupRow; q: string; options: GroupUser[]; more: boolean };

/** The type-ahead: users allowed for this group (its customer's group admins and supervisors, active or pending) matching `q`. */
export async function userOptions(
  db: Db,
  actor: Actor,
  groupId: string,
  input: { q: string; chosen: string[] },
): Promise<UserOptions> {
  authorize(actor, 'group.assign_users');
  const q = input.q.trim().slice(0, 200);
  return asActor(db, actor, async (trx) => {
    const group = await findGroupInScope(trx, actor, groupId);
    const query = assignableQuery(trx, actor, group.customer_id)
      .orderByRaw('lower(u.name), lower(u.email), m.id')
      .limit(USER_OPTIONS_SHOWN + 1)
      .select(USER_COLUMNS);
    if (input.chosen.length) query.whereNotIn('m.id', input.chosen);
    if (q) {
      const like = `%${escapeLike(q)}%`;
      query.where((w) => w.whereILike('u.name', like).orWhereILike('u.email', like));
    }
    const rows = (await query) as UserRow[];
    return { group, q, options: rows.slice(0, USER_OPTIONS_SHOWN).map(userOf), more: rows.length > USER_OPTIONS_SHOWN };
  });
}

/** Every user the plain form (no JavaScript) offers: the allowed ones and those assigned now. */
export async function assignableUsers(db: Db, actor: Actor, groupId: string): Promise<GroupUser[]> {
  authorize(actor, 'group.assign_users');
  return asActor(db, actor, async (trx) => {
    const group = await findGroupInScope(trx, actor, groupId);
    const allowed = (await assignableQuery(trx, actor, group.customer_id)
      .orderByRaw('lower(u.name), lower(u.email), m.id')
      .select(USER_COLUMNS)) as UserRow[];
    const assigned = (await assignedUsersQuery(trx, actor.tenantId, [group.id]).select(USER_COLUMNS)) as UserRow[];
    const ids = new Set(allowed.map((r) => r.membership_id));
    return [...allowed, ...assigned.filter((r) => !ids.has(r.membership_id))].map(userOf);
  });
}

export type UsersChange = { group: GroupRow; users: GroupUsers; added: GroupUser[]; removed: GroupUser[] };

/**
 * Sets a group's users to exactly the submitted set (membership ids). Each must be allowed for
 * the group or be assigned already (a disabled user can stay until removed). Nothing is written
 * when the set is unchanged; otherwise one audit entry holds the lists before and after.
 */
export async function setGroupUsers(
  db: Db,
  actor: Actor,
  groupId: string,
  membershipIds: string[] | null,
): Promise<UsersChange> {
  authorize(actor, 'group.assign_users');
  return asActor(db, actor, async (trx) => {
    // locked: two admins submitting at once apply one after the other, each from what the other left
    const group = await findGroupInScope(trx, actor, groupId, 'update');
    const before = ((await assignedUsersQuery(trx, actor.tenantId, [group.id]).select(USER_COLUMNS)) as UserRow[]).map(
      userOf,
    );
    if (!membershipIds) throw new ValidationError({ user_ids: GROUP_MESSAGES.users });
    const wanted = new Set(membershipIds);
    const current = new Set(before.map((u) => u.membershipId));
    const toAdd = [...wanted].filter((id) => !current.has(id));
    const addable = toAdd.length
      ? (
          (await assignableQuery(trx, actor, group.customer_id)
            .whereIn('m.id', toAdd)
            .select(USER_COLUMNS)) as UserRow[]
        ).map(userOf)
      : [];
    if (addable.length !== toAdd.length) throw new ValidationError({ user_ids: GROUP_MESSAGES.users });
    const removed = before.filter((u) => !wanted.has(u.membershipId));
    if (removed.length) {
      await trx('membership_groups')
        .where({ tenant_id: actor.tenantId, group_id: group.id })
        .whereIn(
          'membership_id',
          removed.map((u) => u.membershipId),
        )
        .del();
    }
    if (addable.length) {
      await trx('membership_groups').insert(
        addable.map((u) => ({ tenant_id: actor.tenantId, membership_id: u.membershipId, group_id: group.id })),
      );
    }
    const users = await usersOf(trx, actor, group);
    if (removed.length || addable.length) {
      await audit(trx, actor, {
        entityType: 'group',
        entityId: group.id,
        action: 'group.users_changed',
        customerId: group.customer_id,
        before: { group: group.path, users: auditUsers(before) },
        after: { group: group.path, users: auditUsers(users.assigned) },
      });
    }
    return { group, users, added: addable, removed };
  });
}
