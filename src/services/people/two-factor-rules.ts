import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/**
 * The pure rules of two-factor sign-in (RFC 6238 TOTP): secrets, codes, recovery codes, and the
 * encryption of what the database keeps. No database code.
 */

export const TOTP_PERIOD_SECONDS = 30;
export const RECOVERY_CODE_COUNT = 10;
/** how long the second step of a sign-in waits for its code after the password */
export const SECOND_STEP_MS = 5 * 60_000;
const ISSUER = 'Portico';
// 32 letters and digits without the look-alikes (l, o, 0, 1): 40 bits a code
const RECOVERY_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** The key two-factor secrets and recovery-code hashes are kept under, derived from SESSION_SECRET. */
export function twoFactorKey(sessionSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', sessionSecret, 'portico', 'portico two-factor v1', 32));
}

/** A new secret, as base32 text (160 bits, what authenticator apps expect). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secretBase32: string, label = 'Portico'): TOTP {
  return new TOTP({
    issuer: ISSUER,
    label,
    secret: Secret.fromBase32(secretBase32),
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD_SECONDS,
  });
}

/** The otpauth:// address an authenticator app reads from the QR code. */
export function totpUri(secretBase32: string, email: string): string {
  return totp(secretBase32, email).toString();
}

/** The base32 secret in groups of four, easier to type into an app by hand. */
export function groupedSecret(secretBase32: string): string {
  return secretBase32.replace(/(.{4})(?=.)/g, '$1 ');
}

/** The time step a moment falls in. */
export function stepAt(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/** The code of a secret at a moment (tests, and nothing else in the app, compute codes). */
export function totpCodeAt(secretBase32: string, now: Date): string {
  return totp(secretBase32).generate({ timestamp: now.getTime() });
}

/**
 * The time step a code belongs to, or null when it is not the code of now, of the step before or of the
 * step after (a phone's clock a little off): the caller refuses a step at or before the last one accepted.
 */
export function matchTotpStep(secretBase32: string, code: string, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp(secretBase32).validate({ token: code, timestamp: now.getTime(), window: 1 });
  return delta === null ? null : stepAt(now) + delta;
}

/** What the person typed in the one code field: a 6-digit code or a recovery code (normalised), or neither. */
export type SecondFactor = { kind: 'totp'; code: string } | { kind: 'recovery'; code: string };

export function readSecondFactor(input: string): SecondFactor | null {
  const text = input.trim().toLowerCase();
  const digits = text.replace(/[\s-]/g, '');
  if (/^\d{6}$/.test(digits)) return { kind: 'totp', code: digits };
  const m = /^([a-z0-9]{4})[\s-]?([a-z0-9]{4})$/.exec(text);
  return m ? { kind: 'recovery', code: `${m[1]}${m[2]}` } : null;
}

/** Ten new recovery codes, each like `abcd-efgh`. */
export function newRecoveryCodes(): string[] {
  const one = () => Array.from({ length: 8 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join('');
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const c = one();
    return `${c.slice(0, 4)}-${c.slice(4)}`;
  });
}

/** What is stored of a recovery code: keyed (a code has only 40 bits) and bound to its login. */
export function recoveryCodeHash(key: Buffer, userId: string, code: string): string {
  const normal = code.toLowerCase().replace(/[\s-]/g, '');
  return createHmac('sha256', key).update(`${userId}:${normal}`).digest('hex');
}

/** The secret as stored: AES-256-GCM under the key, bound to its login (iv.tag.ciphertext, base64url). */
export function encryptSecret(key: Buffer, userId: string, secretBase32: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(userId));
  const body = Buffer.concat([cipher.update(secretBase32, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

/** The stored secret back as base32; throws if it was not encrypted for this login under this key. */
export function decryptSecret(key: Buffer, userId: string, stored: string): string {
  const [iv, tag, body] = stored.split('.').map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !tag || !body) throw new Error('not a stored two-factor secret');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(userId));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}
