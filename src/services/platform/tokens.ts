import { createHash, randomBytes } from 'node:crypto';
import type { Db, Trx } from '../../db/index.js';

export type TokenPurpose =
  'activation' | 'password_reset' | 'login_link' | 'email_verification' | 'mobile_verification';

export const TOKEN_LIFETIMES_MS: Record<TokenPurpose, number> = {
  activation: 7 * 24 * 60 * 60 * 1000,
  password_reset: 60 * 60 * 1000,
  login_link: 183 * 24 * 60 * 60 * 1000,
  email_verification: 24 * 60 * 60 * 1000,
  mobile_verification: 10 * 60 * 1000,
};

export function hashToken(raw: string): Buffer {
  return createHash('sha256').update(raw).digest();
}

/**
 * A new 256-bit token for one purpose; any earlier token of the same user and purpose dies at once
 * (of the same membership, for a token that opens one: a login invited twice keeps both links).
 * Only the hash is stored: the raw token exists in the returned value and the link made from it.
 */
export async function issueToken(
  trx: Db | Trx,
  input: {
    userId: string;
    tenantId: string | null;
    purpose: TokenPurpose;
    now: Date;
    expiresAt?: Date;
    membershipId?: string;
  },
): Promise<{ token: string; expiresAt: Date }> {
  await trx('user_tokens')
    .where({ user_id: input.userId, purpose: input.purpose })
    .modify((q) => {
      if (input.membershipId) q.where({ membership_id: input.membershipId });
    })
    .whereNull('used_at')
    .whereNull('revoked_at')
    .update({ revoked_at: input.now });
  const token = randomBytes(32).toString('base64url');
  const expiresAt = input.expiresAt ?? new Date(input.now.getTime() + TOKEN_LIFETIMES_MS[input.purpose]);
  await trx('user_tokens').insert({
    user_id: input.userId,
    tenant_id: input.tenantId,
    purpose: input.purpose,
    membership_id: input.membershipId ?? null,
    token_hash: hashToken(token),
    created_at: input.now,
    expires_at: expiresAt,
  });
  return { token, expiresAt };
}

export type TokenRow = {
  id: string;
  user_id: string;
  tenant_id: string | null;
  /** the membership an activation or invitation opens (null on older links and other purposes) */
  membership_id: string | null;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
};

export type TokenState = { ok: true; token: TokenRow } | { ok: false; reason: 'unknown' | 'expired' | 'used' };

/**
 * Looks a token up by its hash (the index compares whole hashes, so no timing leak on the secret)
 * and says whether it may still be used. Locks the row so two uses race to one winner.
 */
export async function findUsableToken(trx: Trx, raw: string, purpose: TokenPurpose, now: Date): Promise<TokenState> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(raw)) return { ok: false, reason: 'unknown' };
  const token = await trx('user_tokens')
    .where({ token_hash: hashToken(raw), purpose })
    .forUpdate()
    .first<TokenRow | undefined>('id', 'user_id', 'tenant_id', 'membership_id', 'expires_at', 'used_at', 'revoked_at');
  // revoked before its expiry: a person withdrew it; revoked at or after it: the expiry job marked it
  if (!token || (token.revoked_at && token.revoked_at < token.expires_at)) return { ok: false, reason: 'unknown' };
  if (token.used_at) return { ok: false, reason: 'used' };
  if (token.expires_at <= now || token.revoked_at) return { ok: false, reason: 'expired' };
  return { ok: true, token };
}

export async function markTokenUsed(trx: Trx, id: string, now: Date): Promise<void> {
  await trx('user_tokens').where({ id }).update({ used_at: now, last_used_at: now });
}

export async function revokeTokens(trx: Db | Trx, userId: string, purpose: TokenPurpose, now: Date): Promise<void> {
  await trx('user_tokens')
    .where({ user_id: userId, purpose })
    .whereNull('used_at')
    .whereNull('revoked_at')
    .update({ revoked_at: now });
}

/**
 * Marks every unused token past its expiry as revoked at the moment it expired, so "live tokens"
 * are simply those not used and not revoked; use still checks the expiry itself. Set-based.
 */
export async function expireTokens(db: Db, now: Date): Promise<number> {
  return db('user_tokens')
    .whereIn('purpose', ['activation', 'login_link', 'password_reset', 'email_verification', 'mobile_verification'])
    .where('expires_at', '<=', now)
    .whereNull('used_at')
    .whereNull('revoked_at')
    .update({ revoked_at: db.ref('expires_at') });
}
