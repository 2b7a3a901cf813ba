import { randomInt, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../db/index.js';
import { ValidationError } from '../../errors.js';
import {
  assertNotLocked,
  audit,
  clearFailures,
  findUsableToken,
  hashToken,
  issueToken,
  LIMITS,
  markTokenUsed,
  recordFailure,
  TOKEN_LIFETIMES_MS,
} from '../platform/index.js';
import { type Actor, asActor, authorize, inTenant } from '../access/index.js';
import { loadActor } from './sign-in.js';
import { enqueueMail } from '../mail/index.js';
import type { MailEnv } from './users.js';
import { msg } from '../platform/i18n.js';
import { translatorForUser } from './mail-language.js';

/**
 * A person confirms their own email address (a link by mail) and mobile number (a 6-digit code by
 * SMS); staff can also set both flags on the contact. SMS goes through the outbox's SMS channel,
 * kept and shown on the outgoing messages page while no SMS provider is configured.
 */

const MOBILE = /^\+?[0-9][0-9 ()-]{5,30}$/;
const sendKey = (userId: string) => `verification-send:${userId}`;
const codeKey = (userId: string) => `verification-code:${userId}`;
export const CODE_MINUTES = TOKEN_LIFETIMES_MS.mobile_verification / 60_000;

export type VerificationState = {
  email: string;
  emailVerified: boolean;
  mobile: string | null;
  mobileVerified: boolean;
  codePending: boolean;
};

export async function verificationState(db: Db, actor: Actor, now: Date): Promise<VerificationState> {
  authorize(actor, 'settings.view');
  return asActor(db, actor, async (trx) => {
    const u = await trx('users')
      .where({ id: actor.userId })
      .first('email', 'email_verified', 'mobile', 'mobile_verified');
    const pending = await trx('user_tokens')
      .where({ user_id: actor.userId, purpose: 'mobile_verification' })
      .whereNull('used_at')
      .whereNull('revoked_at')
      .where('expires_at', '>', now)
      .first('id');
    return {
      email: u.email,
      emailVerified: u.email_verified,
      mobile: u.mobile,
      mobileVerified: u.mobile_verified,
      codePending: !!pending,
    };
  });
}

/** Mails a link that confirms the address; sending is limited like other mail to one account. */
export async function sendEmailVerification(db: Db, actor: Actor, env: MailEnv): Promise<string> {
  authorize(actor, 'settings.view');
  await assertNotLocked(db, [sendKey(actor.userId)], env.now, 'confirmation messages');
  await recordFailure(db, sendKey(actor.userId), LIMITS.mailAccount, env.now);
  return asActor(db, actor, async (trx) => {
    const { token } = await issueToken(trx, {
      userId: actor.userId,
      tenantId: actor.tenantId,
      purpose: 'email_verification',
      now: env.now,
    });
    const tr = await translatorForUser(trx, actor.userId);
    await enqueueMail(trx, {
      tenantId: actor.tenantId,
      kind: 'email_verification',
      to: actor.email,
      userId: actor.userId,
      subject: tr.t('Confirm your email address'),
      text: [
        tr.t('Hello {name},', { name: actor.name }),
        '',
        tr.t('To confirm that this address is yours, open this link within 24 hours:'),
        '',
        `${env.baseUrl}/settings/email-verification/${token}`,
        '',
        tr.t('If you did not ask for this, ignore this message.'),
      ].join('\n'),
      secrets: [token],
    });
    return actor.email;
  });
}

/**
 * Follows the mailed link: the address is verified, the link used up. Works without a session (the
 * link is the proof).
 */
export async function confirmEmailVerification(
  db: Db,
  now: Date,
  rawToken: string,
): Promise<{ ok: true; email: string } | { ok: false; reason: 'unknown' | 'expired' | 'used' }> {
  return db.transaction(async (trx) => {
    const state = await findUsableToken(trx, rawToken, 'email_verification', now);
    if (!state.ok) return state;
    const { token } = state;
    const user = await trx('users')
      .where({ id: token.user_id, status: 'active' })
      .first<{ email: string } | undefined>('email');
    if (!user || !token.tenant_id) return { ok: false as const, reason: 'unknown' as const };
    await trx('users').where({ id: token.user_id }).update({ email_verified: true, updated_at: now });
    await markTokenUsed(trx, token.id, now);
    const tenantId = token.tenant_id;
    await inTenant(trx, tenantId, async (tx) => {
      const m = await tx('memberships')
        .where({ tenant_id: tenantId, user_id: token.user_id })
        .orderBy('created_at')
        .first<{ id: string } | undefined>('id');
      const actor = (m && (await loadActor(tx, token.user_id, m.id))) || {
        system: 'email confirmation link',
        tenantId,
      };
      await audit(tx, actor, {
        entityType: 'user',
        entityId: token.user_id,
        action: 'user.email_verified',
        customerId: 'customerId' in actor ? actor.customerId : null,
        before: { emailVerified: false },
        after: { emailVerified: true },
      });
    });
    return { ok: true as const, email: user.email };
  });
}

const codeHash = (userId: string, code: string) => hashToken(`mobile:${userId}:${code}`);

/**
 * Saves the person's mobile number (a new number is unverified) and texts it a 6-digit code that
 * works for 10 minutes; an earlier code dies. Only the code's hash is stored.
 */
export async function sendMobileCode(db: Db, actor: Actor, input: { mobile: string }, now: Date): Promise<string> {
  authorize(actor, 'settings.view');
  const mobile = input.mobile.trim();
  if (!MOBILE.test(mobile))
    throw new ValidationError({ mobile: msg('Enter your mobile number in digits, like +44 7700 900123.') });
  await assertNotLocked(db, [sendKey(actor.userId)], now, 'confirmation messages');
  await recordFailure(db, sendKey(actor.userId), LIMITS.mailAccount, now);
  return asActor(db, actor, async (trx) => {
    const before = await trx('users')
      .where({ id: actor.userId })
      .first<{ mobile: string | null; mobile_verified: boolean }>('mobile', 'mobile_verified');
    if (before.mobile !== mobile) {
      await trx('users').where({ id: actor.userId }).update({ mobile, mobile_verified: false, updated_at: now });
      await audit(trx, actor, {
        entityType: 'user',
        entityId: actor.userId,
        action: 'user.mobile_changed',
        customerId: actor.customerId,
        before: { mobile: before.mobile, mobileVerified: before.mobile_verified },
        after: { mobile, mobileVerified: false },
      });
    }
    const code = String(randomInt(1_000_000)).padStart(6, '0');
    // one live code per person; codes are short, so old rows go rather than linger beside the unique hash
    await trx('user_tokens').where({ user_id: actor.userId, purpose: 'mobile_verification' }).del();
    await trx('user_tokens').insert({
      user_id: actor.userId,
      tenant_id: actor.tenantId,
      purpose: 'mobile_verification',
      token_hash: codeHash(actor.userId, code),
      created_at: now,
      expires_at: new Date(now.getTime() + TOKEN_LIFETIMES_MS.mobile_verification),
    });
    const tr = await translatorForUser(trx, actor.userId);
    await enqueueMail(trx, {
      tenantId: actor.tenantId,
      channel: 'sms',
      kind: 'mobile_verification',
      to: mobile,
      userId: actor.userId,
      subject: tr.t('Mobile verification code'),
      text: tr.t('Your Portico code is {code}. It expires in {minutes} minutes.', { code, minutes: CODE_MINUTES }),
      secrets: [code],
    });
    return mobile;
  });
}

/** Checks the texted code; five wrong codes in a row lock the form for 15 minutes. */
export async function confirmMobileCode(db: Db, actor: Actor, input: { code: string }, now: Date): Promise<void> {
  authorize(actor, 'settings.view');
  await assertNotLocked(db, [codeKey(actor.userId)], now, 'wrong codes');
  const code = input.code.replace(/\s/g, '');
  const ok =
    /^\d{6}$/.test(code) &&
    (await asActor(db, actor, async (trx) => {
      const row = await trx('user_tokens')
        .where({ user_id: actor.userId, purpose: 'mobile_verification' })
        .whereNull('used_at')
        .whereNull('revoked_at')
        .where('expires_at', '>', now)
        .forUpdate()
        .first<{ id: string; token_hash: Buffer } | undefined>('id', 'token_hash');
      if (!row || !timingSafeEqual(row.token_hash, codeHash(actor.userId, code))) return false;
      await markTokenUsed(trx, row.id, now);
      await trx('users').where({ id: actor.userId }).update({ mobile_verified: true, updated_at: now });
      await audit(trx, actor, {
        entityType: 'user',
        entityId: actor.userId,
        action: 'user.mobile_verified',
        customerId: actor.customerId,
        before: { mobileVerified: false },
        after: { mobileVerified: true },
      });
      return true;
    }));
  if (!ok) {
    await recordFailure(db, codeKey(actor.userId), LIMITS.verificationCode, now);
    throw new ValidationError({
      code: msg('This code is not right, or it has expired. Check the text message, or send a new code.'),
    });
  }
  await clearFailures(db, codeKey(actor.userId));
}
