import type { Db, Trx } from '../../db/index.js';
import { ValidationError } from '../../errors.js';
import { msg, type Msg } from '../platform/i18n.js';
import { audit, issueToken } from '../platform/index.js';
import {
  type Actor,
  asActor,
  can,
  type CustomerRole,
  isCustomerRole,
  isSiteViewer,
  scopeGroups,
  seesAssignedGroups,
} from '../access/index.js';
import { enqueueMail } from '../mail/index.js';
import { ACTIVATION_METHODS } from './rules.js';
import { activationMail, activationTranslator } from './activation.js';
import {
  authorizeUserAdmin,
  type CustomerUser,
  findCustomerForUsers,
  type MailEnv,
  nameProblem,
  snapshot,
} from './users.js';

/** Adding customer users: the new user's form checked, then a pending login and its activation link, or a password. */

const EMAIL = /^[^\s@<>()[\]",;:\\]+@[^\s@<>()[\]",;:\\]+\.[^\s@<>()[\]",;:\\]+$/;
export const DUPLICATE_EMAIL = msg('A user with this email already exists');

export type NewCustomerUser = {
  name: string;
  email: string;
  role: string;
  activation: string;
  /** group admins and supervisors: the groups they are given, saved with the user (ids as the form sent them) */
  groupIds?: string[];
  /** site viewers, on the staff form: the customer's sites they see, saved with the user */
  siteIds?: string[];
};

export const GROUPS_ONLY_FOR_GROUP_ROLES = msg('Only group admins and group supervisors are given groups.');
export const GROUPS_OF_CUSTOMER = msg("Choose among this customer's groups.");
export const SITES_ONLY_FOR_SITE_VIEWERS = msg('Only site viewers are given sites.');
export const SITES_OF_CUSTOMER = msg("Choose among this customer's sites.");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function emailTaken(trx: Trx, email: string, exceptUserId?: string): Promise<boolean> {
  const q = trx('users').whereRaw('lower(email) = lower(?)', [email]);
  if (exceptUserId) q.whereNot('id', exceptUserId);
  return !!(await q.first('id'));
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
  authorizeUserAdmin(actor);
  const fields = newUserProblems(input);
  if (!isCustomerRole(input.role)) fields.role = msg('Choose one of the roles.');
  // no customer chosen is a form to correct; a customer out of reach is not found (below)
  if (!customerId) throw new ValidationError({ ...fields, customerId: msg('Choose a customer.') });
  const role = input.role as CustomerRole;
  return withUniqueEmail(fields, () =>
    asActor(db, actor, async (trx) => {
      const customer = await findCustomerForUsers(trx, actor, customerId);
      const groups = await groupsToGive(trx, actor, customer.id, role, input.groupIds ?? [], fields);
      const sites = await sitesToGive(trx, actor, customer.id, role, input.siteIds ?? [], fields);
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
      // the groups in the same transaction: the person reaches them from their first sign-in
      if (groups.length)
        await trx('membership_groups').insert(
          groups.map((g) => ({ tenant_id: actor.tenantId, membership_id: added.user.membershipId, group_id: g.id })),
        );
      if (sites.length)
        await trx('membership_sites').insert(
          sites.map((site_id) => ({ tenant_id: actor.tenantId, membership_id: added.user.membershipId, site_id })),
        );
      await audit(trx, actor, {
        entityType: 'user',
        entityId: user.id,
        action: 'user.created',
        customerId: customer.id,
        after: {
          ...snapshot(user),
          activation: input.activation,
          ...(groups.length ? { groups: groups.map((g) => g.path) } : {}),
          ...(sites.length ? { sites: [...sites].sort() } : {}),
        },
      });
      return { user, token: added.token, expiresAt: added.expiresAt };
    }),
  );
}

/**
 * The groups a new group admin or supervisor is given: each one of the customer's groups in the adding
 * admin's reach; anything else is a message on the form's groups field (`groupIds`), added to `fields`.
 */
async function groupsToGive(
  trx: Trx,
  actor: Actor,
  customerId: string,
  role: CustomerRole,
  groupIds: string[],
  fields: Record<string, Msg>,
): Promise<{ id: string; path: string }[]> {
  const wanted = [...new Set(groupIds)];
  if (!wanted.length) return [];
  if (!seesAssignedGroups({ role })) {
    fields.groupIds = GROUPS_ONLY_FOR_GROUP_ROLES;
    return [];
  }
  if (wanted.length > 1000 || !wanted.every((id) => UUID.test(id))) {
    fields.groupIds = GROUPS_OF_CUSTOMER;
    return [];
  }
  const groups = (await scopeGroups(trx, actor, 'g')
    .where('g.customer_id', customerId)
    .whereIn('g.id', wanted)
    .select('g.id', 'g.path')) as { id: string; path: string }[];
  if (groups.length !== wanted.length) fields.groupIds = GROUPS_OF_CUSTOMER;
  return groups;
}

/**
 * The sites a new site viewer sees, given on the staff form by those who manage site viewers: each one of
 * the customer's sites; anything else is a message on the form's sites field (`siteIds`).
 */
async function sitesToGive(
  trx: Trx,
  actor: Actor,
  customerId: string,
  role: CustomerRole,
  siteIds: string[],
  fields: Record<string, Msg>,
): Promise<string[]> {
  const wanted = [...new Set(siteIds)];
  if (!wanted.length) return [];
  if (!can(actor, 'site_viewer.manage') || !isSiteViewer({ role })) {
    fields.siteIds = SITES_ONLY_FOR_SITE_VIEWERS;
    return [];
  }
  if (wanted.length > 1000 || !wanted.every((id) => UUID.test(id))) {
    fields.siteIds = SITES_OF_CUSTOMER;
    return [];
  }
  const found = (await trx('sites')
    .where({ tenant_id: actor.tenantId, customer_id: customerId })
    .whereIn('id', wanted)
    .pluck('id')) as string[];
  if (found.length !== wanted.length) fields.siteIds = SITES_OF_CUSTOMER;
  return found;
}

/** The messages of a new user's form that need no database: name, email and activation method. */
export function newUserProblems(input: Omit<NewCustomerUser, 'role'>): Record<string, Msg> {
  const name = input.name.trim();
  const email = input.email.trim();
  const fields: Record<string, Msg> = {};
  const nameError = nameProblem(name);
  if (nameError) fields.name = nameError;
  if (!email) fields.email = msg('Enter an email address.');
  else if (email.length > 254 || !EMAIL.test(email))
    fields.email = msg('Enter a valid email address, like name@example.com.');
  if (!(ACTIVATION_METHODS as readonly string[]).includes(input.activation))
    fields.activation = msg('Choose how the user activates their account.');
  return fields;
}

/** Two admins adding the same address at once: the unique index decides, the form says why. */
export async function withUniqueEmail<T>(fields: Record<string, Msg>, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueEmailViolation(err)) throw new ValidationError({ ...fields, email: DUPLICATE_EMAIL });
    throw err;
  }
}

/** Where a membership would put the person: a customer, or a partner. */
type Place = { role: string; customer_id?: string; partner_id?: string };

/**
 * The login an address already has, and whether it already belongs to this very place (this customer
 * or partner of the actor's tenant), which the admin may be told: they see that place's people anyway.
 * Whether it belongs anywhere else is never asked here.
 */
async function existingLogin(
  trx: Trx,
  actor: Actor,
  email: string,
  place: Place,
): Promise<{ id: string; here: boolean } | null> {
  const user = await trx('users').whereRaw('lower(email) = lower(?)', [email]).first<{ id: string } | undefined>('id');
  if (!user) return null;
  const here = await trx('memberships')
    .where({ tenant_id: actor.tenantId, user_id: user.id })
    .modify((q) => {
      if (place.customer_id) q.where({ customer_id: place.customer_id });
      else if (place.partner_id) q.where({ partner_id: place.partner_id });
      else q.whereNull('customer_id').whereNull('partner_id');
    })
    .first('id');
  return { id: user.id, here: !!here };
}

export const ALREADY_HERE = msg('This person already has access here. Find them in the list of users.');

/**
 * The membership of a person being added (no password yet) and their activation link: mailed with
 * 'email'; with 'link' nothing is mailed and the raw token is returned to hand over. An address
 * without a login gets a new pending login; one with a login elsewhere gets an invitation instead: a
 * membership that waits (disabled) until that login accepts it with its own password, through the same
 * link, mail and answer, shown with the name and email typed here, so nothing tells the admin which
 * case it was. Only the token's hash is ever stored. Throws the form's messages once the email is checked too.
 */
export async function addPendingUser(
  trx: Trx,
  actor: Actor,
  input: Omit<NewCustomerUser, 'role'>,
  fields: Record<string, Msg>,
  membership: Place,
  placeTitle: string,
  env: MailEnv,
): Promise<{
  user: { id: string; name: string; email: string; status: 'pending'; membershipId: string; createdAt: Date };
  token: string | null;
  expiresAt: Date;
}> {
  const name = input.name.trim();
  const email = input.email.trim();
  const login = fields.email ? null : await existingLogin(trx, actor, email, membership);
  if (login?.here) fields.email = ALREADY_HERE;
  if (Object.keys(fields).length) throw new ValidationError(fields);
  const userId = login ? login.id : await insertPendingPerson(trx, actor, { name, email }, env.now);
  const invitation = login
    ? { invited_at: env.now, invited_name: name, invited_email: email, disabled_at: env.now }
    : {};
  const [m] = await trx('memberships')
    .insert({ tenant_id: actor.tenantId, user_id: userId, ...membership, ...invitation, created_at: env.now })
    .returning<{ id: string }[]>('id');
  const user = { id: userId, name, email, status: 'pending' as const, membershipId: m!.id, createdAt: env.now };
  const { token, expiresAt } = await issueToken(trx, {
    userId,
    tenantId: actor.tenantId,
    purpose: 'activation',
    now: env.now,
    membershipId: m!.id,
  });
  if (input.activation === 'email') {
    const tr = await activationTranslator(trx, userId, m!.id);
    await enqueueMail(trx, activationMail(actor, { ...user, customerTitle: placeTitle }, token, env, false, tr));
  }
  return { user, token: input.activation === 'link' ? token : null, expiresAt };
}

async function insertPendingPerson(
  trx: Trx,
  actor: Actor,
  person: { name: string; email: string },
  now: Date,
): Promise<string> {
  const [row] = await trx('users')
    .insert({
      ...person,
      status: 'pending',
      password_hash: null,
      time_zone: actor.timeZone,
      created_at: now,
      updated_at: now,
    })
    .returning<{ id: string }[]>('id');
  return row!.id;
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
  fields: Record<string, Msg>,
): Promise<CustomerUser> {
  Object.assign(fields, newUserProblems({ ...input, activation: 'email' }));
  if (!isCustomerRole(input.role)) fields.role = msg('Choose one of the roles.');
  const customer = await findCustomerForUsers(trx, actor, customerId);
  const name = input.name.trim();
  const email = input.email.trim();
  if (!fields.email && (await emailTaken(trx, email))) fields.email = DUPLICATE_EMAIL;
  if (Object.keys(fields).length || !login.passwordHash) throw new ValidationError(fields);
  const role = input.role as CustomerRole;
  // a savepoint, so a lost race on the email leaves the caller's transaction usable for the form
  return withUniqueEmail(fields, () =>
    // the savepoint's handle is not named `t`: the catalog check reads t('…') as a message
    trx.transaction(async (sp) => {
      const [row] = await sp('users')
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
      const [m] = await sp('memberships')
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
