import type { Db, Trx } from '../../db/index.js';
import { TooManyRequestsError, ValidationError } from '../../errors.js';
import { randomBytes } from 'node:crypto';
import {
  assertNotLocked,
  audit,
  findUsableToken,
  hashToken,
  issueToken,
  LIMITS,
  markTokenUsed,
  recordFailure,
} from '../platform/index.js';
import { inTenant } from '../access/index.js';
import { clearSignInLockout, loadActor } from './sign-in.js';
import { enqueueMail } from '../mail/index.js';
import { hashPassword, passwordProblem } from './passwords.js';
import { revokeSessionsOfUser } from './sessions.js';
import { english, isLocale, msg, recipientLocale, translator, type Translator, type Msg } from '../platform/i18n.js';

export type PasswordResetRequest = { email: string; address: string; baseUrl: string };

const accountKey = (email: string) => `reset:account:${email.trim().toLowerCase()}`;
const addressKey = (address: string) => `reset:address:${address}`;

/** Checked on the form only so a typo gets a message; nothing here says whether an account exists. */
const LOOKS_LIKE_EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * Mails a one-hour reset link when the address belongs to an active user. The caller sees the
 * same answer either way; the user id is returned for the log only and must not shape the reply.
 * Too many requests from one address: 429. Too many for one account: silently nothing is sent,
 * so the limit does not reveal that the account exists.
 */
export async function requestPasswordReset(
  db: Db,
  now: Date,
  input: PasswordResetRequest,
): Promise<{ userId: string | null; limited: boolean }> {
  const email = input.email.trim();
  if (!email || email.length > 254 || !LOOKS_LIKE_EMAIL.test(email)) {
    throw new ValidationError({ email: msg('Enter the email address you sign in with.') });
  }
  await assertNotLocked(db, [addressKey(input.address)], now, 'password reset requests');
  await recordFailure(db, addressKey(input.address), LIMITS.tokenAddress, now);
  const limited = await isLocked(db, accountKey(email), now);
  if (!limited) await recordFailure(db, accountKey(email), LIMITS.resetAccount, now);

  // every address costs the same lookups up to here; only a real, active account goes on
  const user = await db('users as u')
    .join('memberships as m', 'm.user_id', 'u.id')
    .join('tenants as t', 't.id', 'm.tenant_id')
    .whereRaw('lower(u.email) = lower(?)', [email])
    .where('u.status', 'active')
    .whereNull('t.disabled_at')
    .orderBy('m.created_at')
    .first<{ id: string; email: string; name: string; tenant_id: string; locale: string } | undefined>(
      'u.id',
      'u.email',
      'u.name',
      'm.tenant_id',
      db.raw(`${recipientLocale('u')} as locale`),
    );
  const send = !!user && !limited;
  // an unknown or limited address does the same work (token, hash, statements) and writes nothing, so
  // neither the answer nor the time it takes says whether the address has a login
  await inTenant(db, send ? user.tenant_id : NO_TENANT, async (trx) => {
    if (!send) return rehearseReset(trx, now, input.baseUrl);
    const { token } = await issueToken(trx, {
      userId: user.id,
      tenantId: user.tenant_id,
      purpose: 'password_reset',
      now,
    });
    // in the recipient's language: their choice, else their browser's
    const tr = translator(isLocale(user.locale) ? user.locale : 'en');
    await enqueueMail(trx, {
      tenantId: user.tenant_id,
      kind: 'password_reset',
      to: user.email,
      userId: user.id,
      subject: tr.t('Reset your Portico password'),
      text: resetMailText(tr, user.name, `${input.baseUrl}/password/reset/${token}`),
      secrets: [token],
    });
  });
  if (!send) return { userId: user?.id ?? null, limited };
  return { userId: user.id, limited: false };
}

/** A tenant no row belongs to: the rehearsal's statements find nothing, whatever they ask. */
const NO_TENANT = '00000000-0000-0000-0000-000000000000';

/** What issuing a reset token and queueing its mail costs, with statements that match no row. */
async function rehearseReset(trx: Trx, now: Date, baseUrl: string): Promise<void> {
  const token = randomBytes(32).toString('base64url');
  await trx('user_tokens')
    .where({ user_id: NO_TENANT, purpose: 'password_reset' })
    .whereNull('used_at')
    .whereNull('revoked_at')
    .update({ revoked_at: now });
  await trx('user_tokens')
    .where({ token_hash: hashToken(token) })
    .first('id');
  resetMailText(english, '', `${baseUrl}/password/reset/${token}`);
  await trx('outbox').where({ tenant_id: NO_TENANT }).whereRaw('false').first('id');
}

function resetMailText(tr: Translator, name: string, link: string): string {
  return [
    tr.t('Hello {name},', { name }),
    '',
    tr.t(
      'We received a request to reset the password of your Portico account. To choose a new password, open this link:',
    ),
    '',
    link,
    '',
    tr.t('The link expires in one hour and works only once.'),
    tr.t('If you did not ask for a new password, ignore this message: your password stays as it is.'),
    '',
  ].join('\n');
}

async function isLocked(db: Db, key: string, now: Date): Promise<boolean> {
  try {
    await assertNotLocked(db, [key], now);
    return false;
  } catch (err) {
    if (err instanceof TooManyRequestsError) return true;
    throw err;
  }
}

export type ResetLinkState = { ok: true } | { ok: false; reason: 'unknown' | 'expired' | 'used' };

/**
 * Whether a reset link can still be used, for the page that asks for the new password.
 * Unknown tokens count against the address, like failed sign-ins.
 */
export async function checkResetLink(db: Db, now: Date, rawToken: string, address: string): Promise<ResetLinkState> {
  await assertNotLocked(db, [addressKey(address)], now, 'attempts');
  const state = await db.transaction(async (trx) => usableResetToken(trx, rawToken, now));
  if (!state.ok && state.reason === 'unknown') await recordFailure(db, addressKey(address), LIMITS.tokenAddress, now);
  return state.ok ? { ok: true } : { ok: false, reason: state.reason };
}

export type PasswordResetInput = { password: string; passwordConfirm: string; address?: string };

/**
 * Sets a new password from a reset link: the link works once, every session of the user ends
 * (whoever else was signed in is out), and a sign-in lock on the account is lifted.
 * Bad passwords throw ValidationError and change nothing, the link included.
 */
export async function resetPassword(
  db: Db,
  now: Date,
  rawToken: string,
  input: PasswordResetInput,
): Promise<
  { ok: true; userId: string; sessionsEnded: number } | { ok: false; reason: 'unknown' | 'expired' | 'used' }
> {
  if (input.address) await assertNotLocked(db, [addressKey(input.address)], now, 'attempts');
  const result = await db.transaction(async (trx) => {
    const state = await usableResetToken(trx, rawToken, now);
    if (!state.ok) return state;
    const { token, user, membership } = state;

    const fields: Record<string, Msg> = {};
    const problem = passwordProblem(input.password, user.email);
    if (problem) fields.password = problem;
    else if (input.password !== input.passwordConfirm) fields.passwordConfirm = msg('The two passwords do not match.');
    if (Object.keys(fields).length) throw new ValidationError(fields);

    await trx('users')
      .where({ id: user.id })
      .update({ password_hash: await hashPassword(input.password), updated_at: now });
    await markTokenUsed(trx, token.id, now);
    const sessionsEnded = await revokeSessionsOfUser(trx, user.id, now);
    await clearSignInLockout(trx, user.email);
    const actor = (await loadActor(trx, user.id, membership.id)) ?? {
      system: 'password reset link',
      tenantId: membership.tenant_id,
    };
    // last: the tenant binding switches the transaction to the row-level-security role
    await inTenant(trx, membership.tenant_id, (t) =>
      audit(t, actor, {
        entityType: 'user',
        entityId: user.id,
        action: 'user.password_reset',
        after: { via: 'reset link', sessionsEnded },
      }),
    );
    return { ok: true as const, userId: user.id, sessionsEnded };
  });
  if (!result.ok && result.reason === 'unknown' && input.address)
    await recordFailure(db, addressKey(input.address), LIMITS.tokenAddress, now);
  return result;
}

type UsableReset =
  | {
      ok: true;
      token: { id: string; tenant_id: string | null };
      user: { id: string; email: string };
      membership: { id: string; tenant_id: string };
    }
  | { ok: false; reason: 'unknown' | 'expired' | 'used' };

/** The token, its active user and the membership to audit under (the token's tenant first). */
async function usableResetToken(trx: Trx, rawToken: string, now: Date): Promise<UsableReset> {
  const state = await findUsableToken(trx, rawToken, 'password_reset', now);
  if (!state.ok) return state;
  const user = await trx('users')
    .where({ id: state.token.user_id, status: 'active' })
    .first<{ id: string; email: string } | undefined>('id', 'email');
  const membership = user
    ? await trx('memberships')
        .where({ user_id: user.id })
        .orderByRaw('tenant_id = ? desc, created_at', [state.token.tenant_id])
        .first<{ id: string; tenant_id: string } | undefined>('id', 'tenant_id')
    : undefined;
  // a user disabled (or left without a place) since the mail was sent cannot use it
  if (!user || !membership) return { ok: false, reason: 'unknown' };
  return { ok: true, token: state.token, user, membership };
}
