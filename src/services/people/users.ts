import type { Db, Trx } from '../../db/index.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors.js';
import { audit, pageSizeOf } from '../platform/index.js';
import { msg, type Msg } from '../platform/i18n.js';
import {
  type Actor,
  asActor,
  can,
  changesRole,
  CUSTOMER_ROLES,
  customerIdsInReach,
  type CustomerRole,
  isCustomerRole,
  seesAssignedGroups,
} from '../access/index.js';
import { groupsReachedBy, type GroupReach } from '../groups/index.js';
import { endSessionsOfUser, revokeSessionsOfMembership, revokeSessionsOfUser } from './sessions.js';
import { SHOWN_PERSON, type UserStatus } from './rules.js';

/** Customer users as staff and company admins see and change them: lists, a user's page, edits, removal. */

/** One customer user as the admin screens show them: the person and their role in one customer. */
export type CustomerUser = {
  id: string;
  name: string;
  email: string;
  status: UserStatus;
  role: CustomerRole;
  membershipId: string;
  customerId: string;
  customerTitle: string;
  createdAt: Date;
  /**
   * the login also serves a role outside this customer (staff, another customer, another provider): its
   * name is the person's own, and disabling them here disables this membership, not the login
   */
  sharedLogin?: boolean;
  /** an invitation of a login that exists elsewhere, not accepted yet (shown as a pending new person) */
  invited?: boolean;
  /** group admins and supervisors: the groups they are assigned to and reach (lists and the user's page) */
  groups?: GroupReach;
};

export type CustomerRef = { id: string; title: string };
export type ListQuery = { q?: string; page?: number; size?: number };

/** Where a mail's links point and what time it is: the route knows both, the service needs them. */
export type MailEnv = { now: Date; baseUrl: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const mayRead = (actor: Actor) =>
  can(actor, 'customer_user.manage') || can(actor, 'customer.view') || can(actor, 'users.view');
const mayManage = (actor: Actor) => can(actor, 'customer_user.manage') || can(actor, 'users.manage');

function authorizeRead(actor: Actor) {
  if (!mayRead(actor)) throw new ForbiddenError();
}
/** Staff's customer_user.manage or a company admin's users.manage: adding, changing and removing users. */
export function authorizeUserAdmin(actor: Actor) {
  if (!mayManage(actor)) throw new ForbiddenError();
}

/** The customer, if the actor reaches it; ids that are not uuids are simply not found. */
export async function findCustomerForUsers(trx: Trx, actor: Actor, customerId: string): Promise<CustomerRef> {
  if (!UUID.test(customerId)) throw new NotFoundError();
  const customer = await trx('customers')
    .where({ tenant_id: actor.tenantId, id: customerId })
    .whereIn('id', customerIdsInReach(trx, actor))
    .first<CustomerRef | undefined>('id', 'title');
  if (!customer) throw new NotFoundError();
  return customer;
}

/** Customer memberships in the actor's reach, joined to their person and customer. */
function customerUsersInReach(trx: Trx, actor: Actor) {
  return trx('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .join('customers as c', function () {
      this.on('c.tenant_id', 'm.tenant_id').andOn('c.id', 'm.customer_id');
    })
    .where('m.tenant_id', actor.tenantId)
    .whereIn('m.role', CUSTOMER_ROLES)
    .whereIn('m.customer_id', customerIdsInReach(trx, actor));
}

const USER_COLUMNS = [
  'u.id',
  'm.role',
  'm.id as membershipId',
  'm.customer_id as customerId',
  'c.title as customerTitle',
];

const SHOWN_NAME = SHOWN_PERSON.name;
const SHOWN_EMAIL = SHOWN_PERSON.email;

/**
 * The person as this membership's customer sees them: disabled here when the membership is, whatever
 * the login; and whether the login serves anything else (the question answered across tenants by the
 * one narrow function that may look; never for an invitation not yet accepted).
 */
function userColumns(trx: Trx) {
  return [
    ...USER_COLUMNS,
    trx.raw(`${SHOWN_NAME} as name`),
    trx.raw(`${SHOWN_EMAIL} as email`),
    trx.raw(`${SHOWN_PERSON.createdAt} as "createdAt"`),
    trx.raw('m.invited_at is not null as invited'),
    trx.raw(
      "case when m.invited_at is not null then 'pending' when u.status = 'active' and m.disabled_at is not null " +
        "then 'disabled' else u.status end as status",
    ),
    trx.raw(
      'm.invited_at is null and not exists ' +
        '(select 1 from user_ids_without_other_membership(array[u.id], m.tenant_id, m.customer_id)) as "sharedLogin"',
    ),
  ];
}

export async function findUserInReach(
  trx: Trx,
  actor: Actor,
  userId: string,
  customerId?: string | null,
  lock = false,
): Promise<CustomerUser> {
  if (!UUID.test(userId) || (customerId && !UUID.test(customerId))) throw new NotFoundError();
  const q = customerUsersInReach(trx, actor)
    .where('u.id', userId)
    .orderBy('m.created_at')
    .first<CustomerUser | undefined>(userColumns(trx));
  if (customerId) q.where('m.customer_id', customerId);
  if (lock) q.forUpdate('u');
  const user = await q;
  if (!user) throw new NotFoundError();
  return user;
}

/** What the audit log keeps of a user: who and where, never a password hash or a token. */
export function snapshot(
  u: Pick<CustomerUser, 'id' | 'name' | 'email' | 'status' | 'role' | 'customerId' | 'customerTitle'>,
) {
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    status: u.status,
    role: u.role,
    customerId: u.customerId,
    customer: u.customerTitle,
  };
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Customer users the actor may see. Staff: the users of one customer of their tenant. A company
 * admin: the users of their own customer and its inner customers, optionally narrowed to one of them.
 */
export async function listCustomerUsers(db: Db, actor: Actor, customerId: string | null, list: ListQuery = {}) {
  authorizeRead(actor);
  const size = pageSizeOf(list.size);
  const page = Number.isInteger(list.page) && list.page! > 0 ? list.page! : 1;
  const q = (list.q ?? '').trim().slice(0, 200);
  if (!customerId && can(actor, 'customer.view')) throw new NotFoundError();
  return asActor(db, actor, async (trx) => {
    const customer = customerId ? await findCustomerForUsers(trx, actor, customerId) : null;
    const query = customerUsersInReach(trx, actor)
      .orderByRaw(`lower(${SHOWN_NAME}), lower(${SHOWN_EMAIL}), m.id`)
      .limit(size + 1)
      .offset((page - 1) * size)
      .select<CustomerUser[]>(userColumns(trx));
    if (customer) query.where('m.customer_id', customer.id);
    if (q) {
      const like = `%${escapeLike(q)}%`;
      query.where((w) => w.whereRaw(`${SHOWN_NAME} ilike ?`, [like]).orWhereRaw(`${SHOWN_EMAIL} ilike ?`, [like]));
    }
    const rows = await query;
    const users = await withGroups(trx, actor, rows.slice(0, size));
    return { customer, users, q, page, size, hasNext: rows.length > size };
  });
}

/** The customers whose users the actor reaches (a company admin: their own, then its inner customers). */
export async function customersWithUsersInReach(db: Db, actor: Actor): Promise<CustomerRef[]> {
  authorizeRead(actor);
  return asActor(db, actor, (trx) =>
    trx('customers')
      .where('tenant_id', actor.tenantId)
      .whereIn('id', customerIdsInReach(trx, actor))
      .orderByRaw('parent_id is not null, lower(title)')
      .select<CustomerRef[]>('id', 'title'),
  );
}

/** The customer whose users the actor is about to see or add to; 404 outside their reach. */
export async function customerForUsers(db: Db, actor: Actor, customerId: string): Promise<CustomerRef> {
  authorizeRead(actor);
  return asActor(db, actor, (trx) => findCustomerForUsers(trx, actor, customerId));
}

export async function getCustomerUser(
  db: Db,
  actor: Actor,
  userId: string,
  customerId?: string | null,
): Promise<CustomerUser> {
  authorizeRead(actor);
  return asActor(
    db,
    actor,
    async (trx) => (await withGroups(trx, actor, [await findUserInReach(trx, actor, userId, customerId)]))[0]!,
  );
}

/** Group admins and supervisors with the groups they reach (company admins reach every group; site viewers none). */
async function withGroups(trx: Trx, actor: Actor, users: CustomerUser[]): Promise<CustomerUser[]> {
  const groupRoles = users.filter(seesAssignedGroups);
  const reach = await groupsReachedBy(
    trx,
    actor.tenantId,
    groupRoles.map((u) => u.membershipId),
  );
  const none: GroupReach = { assigned: [], reach: 0 };
  return users.map((u) => (groupRoles.includes(u) ? { ...u, groups: reach.get(u.membershipId) ?? none } : u));
}

export function nameProblem(name: string): string | null {
  if (!name) return msg("Enter the user's name.");
  if (name.length > 200) return msg('Use at most 200 characters.');
  return null;
}

export type CustomerUserChanges = { name: string; role: string; status?: string };

/** What a customer's admins may not change of a login that also serves others. */
const sharedNameProblem = (name: string): Msg =>
  msg('{name} also signs in elsewhere with this login, so only they can change their name (under Settings).', { name });

/**
 * Changes a user's name, role and status. A pending user stays pending until they activate.
 * Disabling ends all their sessions at once; a company admin cannot disable or demote themselves.
 * A login that also serves others keeps its name and status: disabling ends this membership alone,
 * with the sessions acting through it.
 */
export async function updateCustomerUser(
  db: Db,
  actor: Actor,
  userId: string,
  input: CustomerUserChanges,
  opts: { now: Date; customerId?: string | null },
): Promise<CustomerUser> {
  authorizeUserAdmin(actor);
  return asActor(db, actor, async (trx) => {
    const before = await findUserInReach(trx, actor, userId, opts.customerId, true);
    const name = input.name.trim();
    const fields: Record<string, Msg> = {};
    const nameError = before.sharedLogin && name !== before.name ? sharedNameProblem(before.name) : nameProblem(name);
    if (nameError) fields.name = nameError;
    if (!isCustomerRole(input.role)) fields.role = msg('Choose one of the roles.');
    let status: UserStatus = before.status;
    if (before.status !== 'pending') {
      if (input.status === 'active' || input.status === 'disabled') status = input.status;
      else fields.status = msg('Choose active or disabled.');
    }
    const self = before.id === actor.userId;
    if (self && status === 'disabled') fields.status = msg('You cannot disable your own account.');
    if (self && isCustomerRole(input.role) && changesRole(before, input.role))
      fields.role = msg('You cannot change your own role.');
    if (Object.keys(fields).length) throw new ValidationError(fields);
    const role = input.role as CustomerRole;

    const membership = trx('memberships').where({ tenant_id: actor.tenantId, id: before.membershipId });
    let shownStatus = status;
    if (before.invited) {
      // the login is not theirs to change: only what they typed when inviting, until it is accepted
      await membership.clone().update({ role, invited_name: name });
    } else if (before.sharedLogin) {
      await membership.clone().update({ role, disabled_at: status === 'disabled' ? opts.now : null });
      if (status === 'disabled' && before.status !== 'disabled')
        await revokeSessionsOfMembership(trx, actor.tenantId, before.id, before.membershipId, opts.now);
      // enabling here cannot lift what those who share the login decided about it
      const login = await trx('users').where({ id: before.id }).first<{ status: UserStatus }>('status');
      if (status === 'active' && login.status !== 'active') shownStatus = login.status;
    } else {
      await trx('users').where({ id: before.id }).update({ name, status, updated_at: opts.now });
      await membership.clone().update({ role, disabled_at: null });
      if (status === 'disabled' && before.status !== 'disabled') await revokeSessionsOfUser(trx, before.id, opts.now);
    }
    const after: CustomerUser = { ...before, name, role, status: shownStatus };
    await audit(trx, actor, {
      entityType: 'user',
      entityId: before.id,
      action: 'user.updated',
      customerId: before.customerId,
      before: snapshot(before),
      after: snapshot(after),
    });
    return after;
  });
}

/**
 * Removes a user from a customer for good: their sessions end, the membership goes, and the login
 * itself goes when it was their last membership anywhere. The audit record stays.
 */
export async function deleteCustomerUser(
  db: Db,
  actor: Actor,
  userId: string,
  opts: { customerId?: string | null } = {},
): Promise<CustomerUser> {
  authorizeUserAdmin(actor);
  return asActor(db, actor, async (trx) => {
    const user = await findUserInReach(trx, actor, userId, opts.customerId, true);
    if (user.id === actor.userId) throw new ConflictError('You cannot delete your own account.');
    // an invitation never acted: withdrawing it leaves the login's sessions elsewhere alone
    if (!user.invited) await endSessionsOfUser(trx, user.id);
    await trx('memberships').where({ tenant_id: actor.tenantId, id: user.membershipId }).del();
    await trx.raw('select delete_user_without_memberships(?)', [user.id]);
    await audit(trx, actor, {
      entityType: 'user',
      entityId: user.id,
      action: 'user.deleted',
      customerId: user.customerId,
      before: snapshot(user),
    });
    return user;
  });
}
