import type { Db, Trx } from '../../db/index.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../errors.js';
import {
  assertNotLocked,
  audit,
  findUsableToken,
  issueToken,
  LIMITS,
  markTokenUsed,
  recordFailure,
  TOKEN_LIFETIMES_MS,
} from '../platform/index.js';
import {
  type Actor,
  asActor,
  can,
  changesRole,
  CUSTOMER_ROLES,
  customerIdsInReach,
  type CustomerRole,
  inTenant,
  isCustomerRole,
  landingPath,
  seesAssignedGroups,
} from '../access/index.js';
import { loadActor } from './sign-in.js';
import { groupsReachedBy, type GroupReach } from '../groups/index.js';
import { enqueueMail } from '../mail/index.js';
import { hashPassword, passwordProblem } from './passwords.js';
import { endSessionsOfUser } from './sessions.js';
import { ACTIVATION_METHODS, type ActivationMethod, type UserStatus } from './rules.js';

export const ACTIVATION_DAYS = TOKEN_LIFETIMES_MS.activation / 86_400_000;

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
  /** group admins and supervisors: the groups they are assigned to and reach (lists and the user's page) */
  groups?: GroupReach;
};

export type CustomerRef = { id: string; title: string };
export type ListQuery = { q?: string; page?: number; size?: number };
export const PAGE_SIZES = [10, 25, 50, 100] as const;

/** Where a mail's links point and what time it is: the route knows both, the service needs them. */
export type MailEnv = { now: Date; baseUrl: string };

const EMAIL = /^[^\s@<>()[\]",;:\\]+@[^\s@<>()[\]",;:\\]+\.[^\s@<>()[\]",;:\\]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DUPLICATE_EMAIL = 'A user with this email already exists';

const mayRead = (actor: Actor) =>
  can(actor, 'customer_user.manage') || can(actor, 'customer.view') || can(actor, 'users.view');
const mayManage = (actor: Actor) => can(actor, 'customer_user.manage') || can(actor, 'users.manage');

function authorizeRead(actor: Actor) {
  if (!mayRead(actor)) throw new ForbiddenError();
}
function authorizeManage(actor: Actor) {
  if (!mayManage(actor)) throw new ForbiddenError();
}

/** The customer, if the actor reaches it; ids that are not uuids are simply not found. */
async function findCustomerInReach(trx: Trx, actor: Actor, customerId: string): Promise<CustomerRef> {
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
  'u.name',
  'u.email',
  'u.status',
  'u.created_at as createdAt',
  'm.role',
  'm.id as membershipId',
  'm.customer_id as customerId',
  'c.title as customerTitle',
];

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
    .first<CustomerUser | undefined>(USER_COLUMNS);
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
  const size = PAGE_SIZES.find((s) => s === list.size) ?? 25;
  const page = Number.isInteger(list.page) && list.page! > 0 ? list.page! : 1;
  const q = (list.q ?? '').trim().slice(0, 200);
  if (!customerId && can(actor, 'customer.view')) throw new NotFoundError();
  return asActor(db, actor, async (trx) => {
    const customer = customerId ? await findCustomerInReach(trx, actor, customerId) : null;
    const query = customerUsersInReach(trx, actor)
      .orderByRaw('lower(u.name), lower(u.email), m.id')
      .limit(size + 1)
      .offset((page - 1) * size)
      .select<CustomerUser[]>(USER_COLUMNS);
    if (customer) query.where('m.customer_id', customer.id);
    if (q) {
      const like = `%${escapeLike(q)}%`;
      query.where((w) => w.whereILike('u.name', like).orWhereILike('u.email', like));
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
  return asActor(db, actor, (trx) => findCustomerInReach(trx, actor, customerId));
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

export type NewCustomerUser = { name: string; email: string; role: string; activation: string };

async function emailTaken(trx: Trx, email: string, exceptUserId?: string): Promise<boolean> {
  const q = trx('users').whereRaw('lower(email) = lower(?)', [email]);
  if (exceptUserId) q.whereNot('id', exceptUserId);
  return !!(await q.first('id'));
}

export function nameProblem(name: string): string | null {
  if (!name) return "Enter the user's name.";
  if (name.length > 200) return 'Use at most 200 characters.';
  return null;
}

const isUniqueEmailViolation = (err: unknown) =>
  (err as { code?: string; constraint?: string }).code === '23505' &&
  (err as { constraint?: string }).constraint === 'users_email_key';

/**
 * Adds a pending user (no password yet) to a customer with one role and an activation token.
 * With 'email' the activation link is mailed; with 'link' nothing is mailed and the raw token is
 * returned for the admin to hand over. Only the token's hash is ever stored.
 */
export async function createCustomerUser(
  db: Db,
  actor: Actor,
  customerId: string,
  input: NewCustomerUser,
  env: MailEnv,
): Promise<{ user: CustomerUser; token: string | null; expiresAt: Date }> {
  authorizeManage(actor);
  const fields = newUserProblems(input);
  if (!isCustomerRole(input.role)) fields.role = 'Choose one of the roles.';
  // no customer chosen is a form to correct; a customer out of reach is not found (below)
  if (!customerId) throw new ValidationError({ ...fields, customerId: 'Choose a customer.' });
  const role = input.role as CustomerRole;
  return withUniqueEmail(fields, () =>
    asActor(db, actor, async (trx) => {
      const customer = await findCustomerInReach(trx, actor, customerId);
      const added = await addPendingUser(
        trx,
        actor,
        input,
        fields,
        { role, customer_id: customer.id },
        customer.title,
        env,
      );
      const user: CustomerUser = { ...added.user, role, customerId: customer.id, customerTitle: customer.title };
      await audit(trx, actor, {
        entityType: 'user',
        entityId: user.id,
        action: 'user.created',
        customerId: customer.id,
        after: { ...snapshot(user), activation: input.activation },
      });
      return { user, token: added.token, expiresAt: added.expiresAt };
    }),
  );
}

/** A partner's user (a partner viewer) as the staff screens show them. */
export type PartnerUser = {
  id: string;
  name: string;
  email: string;
  status: UserStatus;
  membershipId: string;
  partnerId: string;
  partnerName: string;
  createdAt: Date;
};

/**
 * Adds a pending partner viewer to a partner, with the same activation choices as a customer user:
 * an emailed link, or a link returned for the admin to hand over. Tenant admins only.
 */
export async function createPartnerUser(
  db: Db,
  actor: Actor,
  partnerId: string,
  input: Omit<NewCustomerUser, 'role'>,
  env: MailEnv,
): Promise<{ user: PartnerUser; token: string | null; expiresAt: Date }> {
  if (!can(actor, 'partner.manage')) throw new ForbiddenError();
  if (!UUID.test(partnerId)) throw new NotFoundError();
  const fields = newUserProblems(input);
  return withUniqueEmail(fields, () =>
    asActor(db, actor, async (trx) => {
      const partner = await trx('partners')
        .where({ tenant_id: actor.tenantId, id: partnerId })
        .first<{ id: string; name: string } | undefined>('id', 'name');
      if (!partner) throw new NotFoundError();
      const added = await addPendingUser(
        trx,
        actor,
        input,
        fields,
        { role: 'partner_viewer', partner_id: partner.id },
        partner.name,
        env,
      );
      const user: PartnerUser = { ...added.user, partnerId: partner.id, partnerName: partner.name };
      await audit(trx, actor, {
        entityType: 'user',
        entityId: user.id,
        action: 'user.created',
        after: {
          id: user.id,
          name: user.name,
          email: user.email,
          status: user.status,
          role: 'partner_viewer',
          partnerId: partner.id,
          partner: partner.name,
          activation: input.activation,
        },
      });
      return { user, token: added.token, expiresAt: added.expiresAt };
    }),
  );
}

/** The messages of a new user's form that need no database: name, email and activation method. */
function newUserProblems(input: Omit<NewCustomerUser, 'role'>): Record<string, string> {
  const name = input.name.trim();
  const email = input.email.trim();
  const fields: Record<string, string> = {};
  const nameError = nameProblem(name);
  if (nameError) fields.name = nameError;
  if (!email) fields.email = 'Enter an email address.';
  else if (email.length > 254 || !EMAIL.test(email))
    fields.email = 'Enter a valid email address, like name@example.com.';
  if (!(ACTIVATION_METHODS as readonly string[]).includes(input.activation))
    fields.activation = 'Choose how the user activates their account.';
  return fields;
}

/** Two admins adding the same address at once: the unique index decides, the form says why. */
async function withUniqueEmail<T>(fields: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueEmailViolation(err)) throw new ValidationError({ ...fields, email: DUPLICATE_EMAIL });
    throw err;
  }
}

/**
 * The login and membership of a new pending user (no password yet) and their activation token:
 * mailed with 'email'; with 'link' nothing is mailed and the raw token is returned to hand over.
 * Only the token's hash is ever stored. Throws the form's messages once the email is checked too.
 */
async function addPendingUser(
  trx: Trx,
  actor: Actor,
  input: Omit<NewCustomerUser, 'role'>,
  fields: Record<string, string>,
  membership: { role: string; customer_id?: string; partner_id?: string },
  placeTitle: string,
  env: MailEnv,
): Promise<{
  user: { id: string; name: string; email: string; status: 'pending'; membershipId: string; createdAt: Date };
  token: string | null;
  expiresAt: Date;
}> {
  const name = input.name.trim();
  const email = input.email.trim();
  if (!fields.email && (await emailTaken(trx, email))) fields.email = DUPLICATE_EMAIL;
  if (Object.keys(fields).length) throw new ValidationError(fields);
  const [row] = await trx('users')
    .insert({
      email,
      name,
      status: 'pending',
      password_hash: null,
      time_zone: actor.timeZone,
      created_at: env.now,
      updated_at: env.now,
    })
    .returning<{ id: string }[]>('id');
  const userId = row!.id;
  const [m] = await trx('memberships')
    .insert({ tenant_id: actor.tenantId, user_id: userId, ...membership, created_at: env.now })
    .returning<{ id: string }[]>('id');
  const user = { id: userId, name, email, status: 'pending' as const, membershipId: m!.id, createdAt: env.now };
  const { token, expiresAt } = await issueToken(trx, {
    userId,
    tenantId: actor.tenantId,
    purpose: 'activation',
    now: env.now,
  });
  if (input.activation === 'email')
    await enqueueMail(trx, activationMail(actor, { ...user, customerTitle: placeTitle }, token, env, false));
  return { user, token: input.activation === 'link' ? token : null, expiresAt };
}

/**
 * Adds a person who can sign in at once, with a password staff generated or typed (a telecom
 * account's contact): active, and bound to replace that password at the first sign-in. The same
 * checks as any new customer user; `fields` carries the caller's own messages, so all show at once.
 */
export async function addCustomerUserWithPassword(
  trx: Trx,
  actor: Actor,
  customerId: string,
  input: { name: string; email: string; role: string },
  login: { passwordHash: string | null; now: Date },
  fields: Record<string, string>,
): Promise<CustomerUser> {
  Object.assign(fields, newUserProblems({ ...input, activation: 'email' }));
  if (!isCustomerRole(input.role)) fields.role = 'Choose one of the roles.';
  const customer = await findCustomerInReach(trx, actor, customerId);
  const name = input.name.trim();
  const email = input.email.trim();
  if (!fields.email && (await emailTaken(trx, email))) fields.email = DUPLICATE_EMAIL;
  if (Object.keys(fields).length || !login.passwordHash) throw new ValidationError(fields);
  const role = input.role as CustomerRole;
  // a savepoint, so a lost race on the email leaves the caller's transaction usable for the form
  return withUniqueEmail(fields, () =>
    trx.transaction(async (t) => {
      const [row] = await t('users')
        .insert({
          email,
          name,
          status: 'active',
          password_hash: login.passwordHash,
          must_change_password: true,
          time_zone: actor.timeZone,
          created_at: login.now,
          updated_at: login.now,
        })
        .returning<{ id: string }[]>('id');
      const [m] = await t('memberships')
        .insert({ tenant_id: actor.tenantId, user_id: row!.id, role, customer_id: customer.id, created_at: login.now })
        .returning<{ id: string }[]>('id');
      return {
        id: row!.id,
        name,
        email,
        status: 'active' as const,
        role,
        membershipId: m!.id,
        customerId: customer.id,
        customerTitle: customer.title,
        createdAt: login.now,
      };
    }),
  );
}

function activationMail(
  actor: Actor,
  user: Pick<CustomerUser, 'id' | 'name' | 'email' | 'customerTitle'>,
  token: string,
  env: MailEnv,
  again: boolean,
) {
  const link = `${env.baseUrl}/activate/${token}`;
  const opening = again
    ? `${actor.name} sent you a new link to activate your Portico account for ${user.customerTitle}. Earlier links no longer work.`
    : `${actor.name} created a Portico account for you at ${user.customerTitle} (${actor.tenantName}).`;
  return {
    tenantId: actor.tenantId,
    kind: 'activation',
    to: user.email,
    userId: user.id,
    subject: 'Activate your Portico account',
    text: [
      `Hello ${user.name},`,
      '',
      opening,
      '',
      'To choose your password and activate the account, open this link:',
      '',
      link,
      '',
      `The link works once and expires in ${ACTIVATION_DAYS} days. If it has expired, ask your administrator for a new one.`,
      '',
      'If you did not expect this message, you can ignore it.',
    ].join('\n'),
  };
}

export type CustomerUserChanges = { name: string; role: string; status?: string };

/**
 * Changes a user's name, role and status. A pending user stays pending until they activate.
 * Disabling ends all their sessions at once; a company admin cannot disable or demote themselves.
 */
export async function updateCustomerUser(
  db: Db,
  actor: Actor,
  userId: string,
  input: CustomerUserChanges,
  opts: { now: Date; customerId?: string | null },
): Promise<CustomerUser> {
  authorizeManage(actor);
  return asActor(db, actor, async (trx) => {
    const before = await findUserInReach(trx, actor, userId, opts.customerId, true);
    const name = input.name.trim();
    const fields: Record<string, string> = {};
    const nameError = nameProblem(name);
    if (nameError) fields.name = nameError;
    if (!isCustomerRole(input.role)) fields.role = 'Choose one of the roles.';
    let status: UserStatus = before.status;
    if (before.status !== 'pending') {
      if (input.status === 'active' || input.status === 'disabled') status = input.status;
      else fields.status = 'Choose active or disabled.';
    }
    const self = before.id === actor.userId;
    if (self && status === 'disabled') fields.status = 'You cannot disable your own account.';
    if (self && isCustomerRole(input.role) && changesRole(before, input.role))
      fields.role = 'You cannot change your own role.';
    if (Object.keys(fields).length) throw new ValidationError(fields);
    const role = input.role as CustomerRole;

    await trx('users').where({ id: before.id }).update({ name, status, updated_at: opts.now });
    if (changesRole(before, role))
      await trx('memberships').where({ tenant_id: actor.tenantId, id: before.membershipId }).update({ role });
    if (status === 'disabled' && before.status !== 'disabled') await endSessionsOfUser(trx, before.id);
    const after: CustomerUser = { ...before, name, role, status };
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
  authorizeManage(actor);
  return asActor(db, actor, async (trx) => {
    const user = await findUserInReach(trx, actor, userId, opts.customerId, true);
    if (user.id === actor.userId) throw new ConflictError('You cannot delete your own account.');
    await endSessionsOfUser(trx, user.id);
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

async function pendingUserForActivation(
  trx: Trx,
  actor: Actor,
  userId: string,
  customerId?: string | null,
): Promise<CustomerUser> {
  const user = await findUserInReach(trx, actor, userId, customerId, true);
  if (user.status !== 'pending')
    throw new ConflictError(
      `${user.name} has already activated their account, so there is no activation link to send.`,
    );
  return user;
}

/** Mails a new activation link to a pending user; the previous link stops working at once. */
export async function resendActivation(
  db: Db,
  actor: Actor,
  userId: string,
  env: MailEnv & { customerId?: string | null },
): Promise<CustomerUser> {
  authorizeManage(actor);
  return asActor(db, actor, async (trx) => {
    const user = await pendingUserForActivation(trx, actor, userId, env.customerId);
    const { token } = await issueToken(trx, {
      userId: user.id,
      tenantId: actor.tenantId,
      purpose: 'activation',
      now: env.now,
    });
    await enqueueMail(trx, activationMail(actor, user, token, env, true));
    await audit(trx, actor, {
      entityType: 'user',
      entityId: user.id,
      action: 'user.activation_sent',
      customerId: user.customerId,
      after: { email: user.email },
    });
    return user;
  });
}

/**
 * A new activation link for the admin to hand over ("display activation link"); any earlier link,
 * emailed or shown, stops working. The raw token is returned for display and kept nowhere.
 */
export async function activationLink(
  db: Db,
  actor: Actor,
  userId: string,
  opts: { now: Date; customerId?: string | null },
): Promise<{ user: CustomerUser; token: string; expiresAt: Date }> {
  authorizeManage(actor);
  return asActor(db, actor, async (trx) => {
    const user = await pendingUserForActivation(trx, actor, userId, opts.customerId);
    const { token, expiresAt } = await issueToken(trx, {
      userId: user.id,
      tenantId: actor.tenantId,
      purpose: 'activation',
      now: opts.now,
    });
    await audit(trx, actor, {
      entityType: 'user',
      entityId: user.id,
      action: 'user.activation_link_shown',
      customerId: user.customerId,
    });
    return { user, token, expiresAt };
  });
}

/**
 * A new activation link for a pending partner viewer: mailed ('email') or returned to hand over
 * ('link'), as for customer users; any earlier link stops working at once. Tenant admins only.
 */
export async function reissuePartnerActivation(
  db: Db,
  actor: Actor,
  partnerId: string,
  userId: string,
  activation: ActivationMethod,
  env: MailEnv,
): Promise<{ user: PartnerUser; token: string | null; expiresAt: Date }> {
  if (!can(actor, 'partner.manage')) throw new ForbiddenError();
  if (!UUID.test(partnerId) || !UUID.test(userId)) throw new NotFoundError();
  return asActor(db, actor, async (trx) => {
    const user = await trx('memberships as m')
      .join('users as u', 'u.id', 'm.user_id')
      .join('partners as p', function () {
        this.on('p.tenant_id', 'm.tenant_id').andOn('p.id', 'm.partner_id');
      })
      .where({ 'm.tenant_id': actor.tenantId, 'm.partner_id': partnerId, 'm.role': 'partner_viewer', 'u.id': userId })
      .forUpdate('u')
      .first<PartnerUser | undefined>(
        'u.id',
        'u.name',
        'u.email',
        'u.status',
        'm.id as membershipId',
        'm.partner_id as partnerId',
        'p.name as partnerName',
        'u.created_at as createdAt',
      );
    if (!user) throw new NotFoundError();
    if (user.status !== 'pending')
      throw new ConflictError(
        `${user.name} has already activated their account, so there is no activation link to send.`,
      );
    const { token, expiresAt } = await issueToken(trx, {
      userId: user.id,
      tenantId: actor.tenantId,
      purpose: 'activation',
      now: env.now,
    });
    if (activation === 'email')
      await enqueueMail(trx, activationMail(actor, { ...user, customerTitle: user.partnerName }, token, env, true));
    await audit(trx, actor, {
      entityType: 'user',
      entityId: user.id,
      action: activation === 'email' ? 'user.activation_sent' : 'user.activation_link_shown',
      after: { email: user.email },
    });
    return { user, token: activation === 'link' ? token : null, expiresAt };
  });
}

// ---- activation by the user, through the link (no one is signed in) ----

export type InvalidLinkReason = 'unknown' | 'expired' | 'used';
const addressKey = (address: string) => `activation:address:${address}`;

type PendingAccount = { userId: string; tenantId: string; tokenId: string; name: string; email: string };

/** Finds the pending account a token opens, or why it opens none (a disabled or activated user has none). */
async function accountForToken(
  trx: Trx,
  rawToken: string,
  now: Date,
): Promise<{ ok: true; account: PendingAccount } | { ok: false; reason: InvalidLinkReason }> {
  const state = await findUsableToken(trx, rawToken, 'activation', now);
  if (!state.ok) return state;
  const { token } = state;
  const user = await trx('users')
    .where({ id: token.user_id })
    .forUpdate()
    .first<{ name: string; email: string; status: UserStatus } | undefined>('name', 'email', 'status');
  if (!user || !token.tenant_id || user.status === 'disabled') return { ok: false, reason: 'unknown' };
  if (user.status === 'active') return { ok: false, reason: 'used' };
  return {
    ok: true,
    account: {
      userId: token.user_id,
      tenantId: token.tenant_id,
      tokenId: token.id,
      name: user.name,
      email: user.email,
    },
  };
}

/**
 * Refuses while the address is locked. Only unknown links count against it: guessing produces
 * those, while an expired or used link is a real person clicking an old mail.
 */
async function guardAddress<T extends { ok: true } | { ok: false; reason: InvalidLinkReason }>(
  db: Db,
  now: Date,
  address: string,
  check: () => Promise<T>,
): Promise<T> {
  await assertNotLocked(db, [addressKey(address)], now, 'attempts with activation links that do not work');
  const result = await check();
  if (!result.ok && result.reason === 'unknown') await recordFailure(db, addressKey(address), LIMITS.tokenAddress, now);
  return result;
}

/** Whether an activation link still works, and for whom (to greet them on the form). */
export async function checkActivationLink(
  db: Db,
  now: Date,
  rawToken: string,
  opts: { address: string },
): Promise<{ ok: true; name: string; email: string } | { ok: false; reason: InvalidLinkReason }> {
  return guardAddress(db, now, opts.address, () =>
    db.transaction(async (trx) => {
      const found = await accountForToken(trx, rawToken, now);
      return found.ok ? { ok: true as const, name: found.account.name, email: found.account.email } : found;
    }),
  );
}

export type ActivationInput = { password: string; passwordConfirm: string; address: string };

/**
 * Sets the first password of a pending user through their activation link, makes them active and
 * uses the link up. Returns the membership to sign them in with. Bad passwords are 422 and leave
 * the link usable; bad links count against the address.
 */
export async function activateAccount(
  db: Db,
  now: Date,
  rawToken: string,
  input: ActivationInput,
): Promise<
  { ok: true; userId: string; membershipId: string; landing: string } | { ok: false; reason: InvalidLinkReason }
> {
  return guardAddress(db, now, input.address, () =>
    db.transaction(async (trx) => {
      const found = await accountForToken(trx, rawToken, now);
      if (!found.ok) return found;
      const { account } = found;
      const fields: Record<string, string> = {};
      const problem = input.password ? passwordProblem(input.password, account.email) : 'Choose a password.';
      if (problem) fields.password = problem;
      if (!fields.password && input.password !== input.passwordConfirm)
        fields.passwordConfirm = 'The two passwords do not match.';
      if (Object.keys(fields).length) throw new ValidationError(fields);

      const passwordHash = await hashPassword(input.password);
      await trx('users')
        .where({ id: account.userId })
        .update({ password_hash: passwordHash, status: 'active', updated_at: now });
      await markTokenUsed(trx, account.tokenId, now);
      // the rest belongs to the tenant that issued the link; its row-level security applies from here
      return inTenant(trx, account.tenantId, async (t) => {
        const membership = await t('memberships')
          .where({ tenant_id: account.tenantId, user_id: account.userId })
          .orderBy('created_at')
          .first<{ id: string } | undefined>('id');
        const actor = membership ? await loadActor(t, account.userId, membership.id) : null;
        if (!actor) throw new NotFoundError('This account no longer belongs to any customer. Ask your administrator.');
        await audit(t, actor, {
          entityType: 'user',
          entityId: account.userId,
          action: 'user.activated',
          customerId: actor.customerId,
          before: { status: 'pending' },
          after: { status: 'active' },
        });
        return {
          ok: true as const,
          userId: account.userId,
          membershipId: actor.membershipId,
          landing: landingPath(actor),
        };
      });
    }),
  );
}
