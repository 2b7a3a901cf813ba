import type { Db, Trx } from '../../db/index.js';
import { ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { escapeLike } from '../customers/rules.js';
import { GROUP_MESSAGES } from './rules.js';
import { ancestorsOf } from './tree.js';
import { findGroupInScope, type GroupRow } from './group-row.js';
import { type Actor, asActor, authorize, GROUP_ROLES, type Role, ROLE_LABELS } from '../access/index.js';
import { SHOWN_PERSON, STATUS_LABELS, type UserStatus } from '../people/rules.js';
import { cutText } from '../platform/text-rules.js';

/** The people of a group: those assigned to it or above it, the type-ahead of those who may be, and choosing them. */

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

/** As admins see people: an invitation not yet accepted shows what its admin typed (SHOWN_PERSON). */
const userColumns = (trx: Trx) => [
  'm.id as membership_id',
  'u.id as user_id',
  trx.raw(`${SHOWN_PERSON.name} as name`),
  trx.raw(`${SHOWN_PERSON.email} as email`),
  'm.role',
  trx.raw(`${SHOWN_PERSON.status} as status`),
];
const BY_NAME = `lower(${SHOWN_PERSON.name}), lower(${SHOWN_PERSON.email}), m.id`;

function assignedUsersQuery(trx: Trx, tenantId: string, groupIds: string[]) {
  return trx('membership_groups as mg')
    .join('memberships as m', function () {
      this.on('m.tenant_id', 'mg.tenant_id').andOn('m.id', 'mg.membership_id');
    })
    .join('users as u', 'u.id', 'm.user_id')
    .where('mg.tenant_id', tenantId)
    .whereIn('mg.group_id', groupIds)
    .orderByRaw(BY_NAME);
}

/** The people of a group: assigned to it, and assigned to a group above it (they reach it too). */
export async function usersOf(trx: Trx, actor: Actor, group: GroupRow): Promise<GroupUsers> {
  const assigned = (
    (await assignedUsersQuery(trx, actor.tenantId, [group.id]).select(userColumns(trx))) as UserRow[]
  ).map(userOf);
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
        .select([...userColumns(trx), 'vg.id as via_id', 'vg.path as via_path'])) as UserRow[])
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

/**
 * The memberships a group may be given: group admins and supervisors of the group's own customer,
 * active or not yet activated.
 */
function assignableQuery(trx: Trx, actor: Actor, customerId: string) {
  return trx('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .where({ 'm.tenant_id': actor.tenantId, 'm.customer_id': customerId })
    .whereIn('m.role', GROUP_ROLES)
    .whereIn('u.status', ['active', 'pending']);
}

/** The people who could be added to a group: matching name or email, not already chosen. */
export const USER_OPTIONS_SHOWN = 10;

export type UserOptions = { group: GroupRow; q: string; options: GroupUser[]; more: boolean };

/**
 * The type-ahead: users allowed for this group (its customer's group admins and supervisors, active
 * or pending) matching `q`.
 */
export async function userOptions(
  db: Db,
  actor: Actor,
  groupId: string,
  input: { q: string; chosen: string[] },
): Promise<UserOptions> {
  authorize(actor, 'group.assign_users');
  const q = cutText(input.q.trim(), 200);
  return asActor(db, actor, async (trx) => {
    const group = await findGroupInScope(trx, actor, groupId);
    const query = assignableQuery(trx, actor, group.customer_id)
      .orderByRaw(BY_NAME)
      .limit(USER_OPTIONS_SHOWN + 1)
      .select(userColumns(trx));
    if (input.chosen.length) query.whereNotIn('m.id', input.chosen);
    if (q) {
      const like = `%${escapeLike(q)}%`;
      query.where((w) =>
        w.whereRaw(`${SHOWN_PERSON.name} ilike ?`, [like]).orWhereRaw(`${SHOWN_PERSON.email} ilike ?`, [like]),
      );
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
      .orderByRaw(BY_NAME)
      .select(userColumns(trx))) as UserRow[];
    const assigned = (await assignedUsersQuery(trx, actor.tenantId, [group.id]).select(userColumns(trx))) as UserRow[];
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
    const before = (
      (await assignedUsersQuery(trx, actor.tenantId, [group.id]).select(userColumns(trx))) as UserRow[]
    ).map(userOf);
    if (!membershipIds) throw new ValidationError({ user_ids: GROUP_MESSAGES.users });
    const wanted = new Set(membershipIds);
    const current = new Set(before.map((u) => u.membershipId));
    const toAdd = [...wanted].filter((id) => !current.has(id));
    const addable = toAdd.length
      ? (
          (await assignableQuery(trx, actor, group.customer_id)
            .whereIn('m.id', toAdd)
            .select(userColumns(trx))) as UserRow[]
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
