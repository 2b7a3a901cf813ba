import type { Db, Trx } from '../../db/index.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { groupDepths, groupOptionLabel } from '../assets/rules.js';
import { audit } from '../platform/index.js';
import {
  checkGroupForm,
  createsCycle,
  GROUP_MESSAGES,
  GROUP_PATH_MAX,
  pathOf,
  type GroupFields,
  type GroupForm,
} from './rules.js';
import { ancestorsOf, subtreeIds } from './tree.js';
import { findGroupInScope, type GroupRow } from './group-row.js';
import { type Actor, asActor, authorize, customerIdsInReach, scopeGroups } from '../access/index.js';

/** Creating, renaming and moving groups: the forms' choices, and new paths written set-based, assets' copies too. */

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

/** What the "create group" form offers: the customers a top-level group can belong to, and the parents. */
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

/** What the "add user" form offers a new group admin or supervisor: the groups of the adder's customers. */
export async function groupsToGiveChoices(db: Db, actor: Actor): Promise<GroupChoice[]> {
  authorize(actor, 'users.manage');
  return asActor(db, actor, (trx) => groupChoices(trx, actor));
}

/**
 * The edit form: the group as it is, and the parents it may move under (its own customer's groups,
 * not itself or below it).
 */
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

/**
 * The parent a form chose, locked against a concurrent rename (which then commits first, so its path
 * is the one read).
 */
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
       select c.id, (s.path || ? || c.name)::varchar
         from groups c join sub s on c.parent_id = s.id where c.tenant_id = ?
     )
     update groups g set path = sub.path, updated_at = now()
       from sub where g.tenant_id = ? and g.id = sub.id and g.path is distinct from sub.path`,
    [path, tenantId, groupId, ' / ', tenantId, tenantId],
  );
  const result = await trx.raw(
    `update assets a set group_path = g.path
       from groups g
      where g.tenant_id = ? and g.id = any(array(?))
        and a.tenant_id = ? and a.group_id = g.id and a.group_path <> g.path`,
    [tenantId, subtreeIds(trx, tenantId, groupId), tenantId],
  );
  return (result as { rowCount: number }).rowCount;
}
