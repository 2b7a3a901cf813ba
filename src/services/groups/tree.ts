import type { Knex } from 'knex';
import type { Trx } from '../../db/index.js';

/** Queries over the tree of groups that several services share (the asset list, the groups pages, the Users page). */

/** A query of the ids of a group and of every group below it. */
export function subtreeIds(trx: Trx, tenantId: string, groupId: string): Knex.QueryBuilder {
  return trx
    .withRecursive('subtree', (q) => {
      q.select('g.id')
        .from('groups as g')
        .where({ 'g.tenant_id': tenantId, 'g.id': groupId })
        .unionAll((u) =>
          u
            .select('c.id')
            .from('groups as c')
            .join('subtree as s', 'c.parent_id', 's.id')
            .where('c.tenant_id', tenantId),
        );
    })
    .select('id')
    .from('subtree');
}

export type GroupReach = {
  /** the groups the membership is assigned to, by path */
  assigned: { id: string; path: string }[];
  /** how many groups that makes with their sub-groups (each counted once) */
  reach: number;
};

/** For each membership, the groups it is assigned to and how many groups it reaches through them. */
export async function groupsReachedBy(
  trx: Trx,
  tenantId: string,
  membershipIds: string[],
): Promise<Map<string, GroupReach>> {
  const out = new Map<string, GroupReach>();
  if (!membershipIds.length) return out;
  const { rows } = await trx.raw<{
    rows: { membership_id: string; assigned: { id: string; path: string }[]; reach: number }[];
  }>(
    `with recursive assigned as (
       select mg.membership_id, g.id, g.path
         from membership_groups mg join groups g on g.tenant_id = mg.tenant_id and g.id = mg.group_id
        where mg.tenant_id = ? and mg.membership_id = any(?::uuid[])
     ), reach (membership_id, id) as (
       select membership_id, id from assigned
       union
       select r.membership_id, c.id from reach r join groups c on c.tenant_id = ? and c.parent_id = r.id
     )
     select r.membership_id,
            (select json_agg(json_build_object('id', a.id, 'path', a.path) order by a.path, a.id)
               from assigned a where a.membership_id = r.membership_id) as assigned,
            count(*)::int as reach
       from reach r group by r.membership_id`,
    [tenantId, membershipIds, tenantId],
  );
  for (const r of rows) out.set(r.membership_id, { assigned: r.assigned ?? [], reach: r.reach });
  return out;
}

/** The groups above one, nearest last (for breadcrumbs and inherited users). */
export async function ancestorsOf(
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
