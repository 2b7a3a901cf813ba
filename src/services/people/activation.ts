import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
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
import { type Actor, asActor, inTenant, landingPath } from '../access/index.js';
import { enqueueMail } from '../mail/index.js';
import { checkOwnPassword, loadActor, rememberBrowserLanguage } from './sign-in.js';
import { hashPassword, passwordProblem } from './passwords.js';
import type { UserStatus } from './rules.js';
import { authorizeUserAdmin, type CustomerUser, findUserInReach, type MailEnv } from './users.js';
import {
  english,
  isLocale,
  type Locale,
  msg,
  recipientLocale,
  translator,
  type Translator,
  type Msg,
} from '../platform/i18n.js';

/** Activation links: admins send or show them, and the new user opens one to choose a password. */

export const ACTIVATION_DAYS = TOKEN_LIFETIMES_MS.activation / 86_400_000;

/**
 * The language an activation mail is written in: the person's own (their choice, else their browser's);
 * an invitation of a login that signs in elsewhere is written as to a new login (English), so that its
 * language tells the admin, who may read the outbox, nothing about that login.
 */
export async function activationTranslator(trx: Trx, userId: string, membershipId: string): Promise<Translator> {
  const row = await trx('users as u')
    .join('memberships as m', 'm.user_id', 'u.id')
    .where({ 'u.id': userId, 'm.id': membershipId })
    .first<{ locale: string; invited: boolean } | undefined>(
      trx.raw(`${recipientLocale('u')} as locale`),
      trx.raw('m.invited_at is not null as invited'),
    );
  return translator(row && !row.invited && isLocale(row.locale) ? row.locale : 'en');
}

/** The mail that carries an activation link, first or again, in the recipient's language. */
export function activationMail(
  actor: Actor,
  user: Pick<CustomerUser, 'id' | 'name' | 'email' | 'customerTitle'>,
  token: string,
  env: MailEnv,
  again: boolean,
  tr: Translator = english,
) {
  const link = `${env.baseUrl}/activate/${token}`;
  // the same words whether the address is new or already signs in elsewhere: the admin may read this mail
  const opening = again
    ? tr.t(
        '{admin} sent you a new link to activate your Portico account for {customer}. Earlier links no longer work.',
        {
          admin: actor.name,
          customer: user.customerTitle,
        },
      )
    : tr.t('{admin} gave you a Portico account at {customer} ({tenant}).', {
        admin: actor.name,
        customer: user.customerTitle,
        tenant: actor.tenantName,
      });
  return {
    tenantId: actor.tenantId,
    kind: 'activation',
    to: user.email,
    userId: user.id,
    subject: tr.t('Activate your Portico account'),
    text: [
      tr.t('Hello {name},', { name: user.name }),
      '',
      opening,
      '',
      tr.t('To activate the account, open this link. If you already sign in to Portico with this address, it asks'),
      tr.t('for that password and adds the account to your login; otherwise you choose a password.'),
      '',
      link,
      '',
      tr.t('The link works once and expires in {days} days. If it has expired, ask your administrator for a new one.', {
        days: ACTIVATION_DAYS,
      }),
      '',
      tr.t('If you did not expect this message, you can ignore it.'),
    ].join('\n'),
    secrets: [token],
  };
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
      '{name} has already activated their account, so there is no activation link to send.',
    ).withValues({ name: user.name });
  return user;
}

/** Mails a new activation link to a pending user; the previous link stops working at once. */
export async function resendActivation(
  db: Db,
  actor: Actor,
  userId: string,
  env: MailEnv & { customerId?: string | null },
): Promise<CustomerUser> {
  authorizeUserAdmin(actor);
  return asActor(db, actor, async (trx) => {
    const user = await pendingUserForActivation(trx, actor, userId, env.customerId);
    const { token } = await issueToken(trx, {
      userId: user.id,
      tenantId: actor.tenantId,
      purpose: 'activation',
      now: env.now,
      membershipId: user.membershipId,
    });
    const tr = await activationTranslator(trx, user.id, user.membershipId);
    await enqueueMail(trx, activationMail(actor, user, token, env, true, tr));
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
  authorizeUserAdmin(actor);
  return asActor(db, actor, async (trx) => {
    const user = await pendingUserForActivation(trx, actor, userId, opts.customerId);
    const { token, expiresAt } = await issueToken(trx, {
      userId: user.id,
      tenantId: actor.tenantId,
      purpose: 'activation',
      now: opts.now,
      membershipId: user.membershipId,
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

// ---- activation by the user, through the link (no one is signed in) ----

export type InvalidLinkReason = 'unknown' | 'expired' | 'used';
const addressKey = (address: string) => `activation:address:${address}`;

/**
 * tenantId: the tenant whose admin issued the link; null for a deployment operator's link, which no tenant issues.
 * membershipId: the membership the link opens (older links name none: the login's first in that tenant).
 * accept: the login already has a password, so the link is an invitation its owner accepts with it.
 */
type PendingAccount = {
  userId: string;
  tenantId: string | null;
  tokenId: string;
  membershipId: string | null;
  name: string;
  email: string;
  accept: boolean;
};

/**
 * Finds the pending account a token opens, or why it opens none (a disabled or activated user has
 * none, and a link without a tenant opens only an operator's account).
 */
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
    .first<{ name: string; email: string; status: UserStatus; password_hash: string | null } | undefined>(
      'name',
      'email',
      'status',
      'password_hash',
    );
  if (!user || user.status === 'disabled') return { ok: false, reason: 'unknown' };
  if (!token.tenant_id && !(await trx('operators').where({ user_id: token.user_id }).first('user_id')))
    return { ok: false, reason: 'unknown' };
  const membership = token.membership_id
    ? await trx('memberships')
        .where({ tenant_id: token.tenant_id, id: token.membership_id })
        .forUpdate()
        .first<{ invited_at: Date | null } | undefined>('invited_at')
    : undefined;
  // an active login's link only ever opens a membership still waiting for it
  if (user.status === 'active' && !membership?.invited_at) return { ok: false, reason: 'used' };
  const accept = user.status === 'active' && !!user.password_hash;
  return {
    ok: true,
    account: {
      userId: token.user_id,
      tenantId: token.tenant_id,
      tokenId: token.id,
      membershipId: token.membership_id,
      name: user.name,
      email: user.email,
      accept,
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
): Promise<{ ok: true; name: string; email: string; accept: boolean } | { ok: false; reason: InvalidLinkReason }> {
  return guardAddress(db, now, opts.address, () =>
    db.transaction(async (trx) => {
      const found = await accountForToken(trx, rawToken, now);
      if (!found.ok) return found;
      const { name, email, accept } = found.account;
      return { ok: true as const, name, email, accept };
    }),
  );
}

/** `browserLocale`: the browser's language, kept (as at sign-in) for mail to someone who chose none */
export type ActivationInput = { password: string; passwordConfirm: string; address: string; browserLocale?: Locale };

/**
 * Sets the first password of a pending user through their activation link, makes them active and
 * uses the link up; or, when the link invites a login that already has a password, takes that
 * password (counted like a sign-in's, so it cannot be guessed here instead) and gives the login the
 * membership. Returns the membership to sign them in with. Bad passwords are 422 and leave the link
 * usable; bad links count against the address.
 */
export async function activateAccount(
  db: Db,
  now: Date,
  rawToken: string,
  input: ActivationInput,
): Promise<
  | { ok: true; userId: string; membershipId: string; landing: string }
  | { ok: true; userId: string; operator: true; landing: string }
  | { ok: false; reason: InvalidLinkReason }
> {
  return guardAddress(db, now, input.address, () =>
    db.transaction(async (trx) => {
      const found = await accountForToken(trx, rawToken, now);
      if (!found.ok) return found;
      const { account } = found;
      if (account.accept) await checkOwnPassword(db, now, account.email, input.password, input.address);
      else {
        const fields: Record<string, Msg> = {};
        const problem = input.password ? passwordProblem(input.password, account.email) : msg('Choose a password.');
        if (problem) fields.password = problem;
        if (!fields.password && input.password !== input.passwordConfirm)
          fields.passwordConfirm = msg('The two passwords do not match.');
        if (Object.keys(fields).length) throw new ValidationError(fields);
        const passwordHash = await hashPassword(input.password);
        await trx('users')
          .where({ id: account.userId })
          .update({ password_hash: passwordHash, status: 'active', updated_at: now });
      }
      await markTokenUsed(trx, account.tokenId, now);
      if (input.browserLocale) await rememberBrowserLanguage(trx, account.userId, input.browserLocale);
      // a deployment operator belongs to no tenant: signed in as the operator, with no tenant's audit log to write
      if (!account.tenantId)
        return { ok: true as const, userId: account.userId, operator: true as const, landing: '/operator/tenants' };
      const tenantId = account.tenantId;
      // the rest belongs to the tenant that issued the link; its row-level security applies from here
      return inTenant(trx, tenantId, async (tx) => {
        const mine = tx('memberships').where({ tenant_id: tenantId, user_id: account.userId });
        if (account.membershipId) {
          mine.where({ id: account.membershipId });
          // an accepted invitation acts from now on, and shows the login's own name and email
          await mine
            .clone()
            .whereNotNull('invited_at')
            .update({ invited_at: null, invited_name: null, invited_email: null, disabled_at: null });
        }
        const membership = await mine.orderBy('created_at').first<{ id: string } | undefined>('id');
        const actor = membership ? await loadActor(tx, account.userId, membership.id) : null;
        if (!actor) throw new NotFoundError('This account no longer belongs to any customer. Ask your administrator.');
        await audit(tx, actor, {
          entityType: 'user',
          entityId: account.userId,
          action: account.accept ? 'user.invitation_accepted' : 'user.activated',
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
