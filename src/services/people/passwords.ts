import os from 'node:os';
import argon2 from 'argon2';
import { admissionQueue, type Admission } from '../platform/index.js';
import { msg, type Msg } from '../platform/i18n.js';

// OWASP's argon2id minimum: 19 MiB, two passes, one lane (about 30 ms a hash here)
const OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 12;

/**
 * Hashes at once in this process: one core is left to the event loop, which serves every page, and two of
 * libuv's threads to files, DNS and gzip (scripts/threadpool.cjs sizes the pool at start: the cores + 3).
 */
export const PASSWORD_HASH_SLOTS = Math.max(
  1,
  Math.min(os.availableParallelism() - 1, (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 2),
);

/**
 * Every argon2 hash and verification waits its turn here, so that 50 sign-ins at once take turns instead of
 * taking every core from the pages. Past 100 waiting (a few seconds of hashing) a sign-in is told at once to
 * try again (503 with Retry-After) rather than wait longer than a person would.
 */
let queue: Admission | undefined;
// made at first use: the domains' index files import each other, so platform's may not be loaded yet here
const hashing = (): Admission =>
  (queue ??= admissionQueue({
    slots: PASSWORD_HASH_SLOTS,
    maxWaiting: 100,
    busyMessage: msg('Many people are signing in at this moment. Try again in a few seconds.'),
  }));

export function hashPassword(password: string): Promise<string> {
  return hashing().run(() => argon2.hash(password, OPTIONS));
}

/** A hash of a password nobody has, so an unknown email costs as much time as a wrong password. */
let decoy: Promise<string> | undefined;

export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  decoy ??= hashPassword('decoy password that never matches');
  const against = hash ?? (await decoy);
  // a full queue refuses the sign-in (BusyError): never taken for a wrong password
  return hashing().run(async () => {
    try {
      return await argon2.verify(against, password);
    } catch {
      return false;
    }
  });
}

// The most common passwords of at least 12 characters in public breach lists.
const COMMON = new Set([
  '123456789012',
  '1234567890123',
  'qwertyuiopas',
  'password1234',
  'password12345',
  'passwordpassword',
  'qwerty123456',
  '111111111111',
  '000000000000',
  'aaaaaaaaaaaa',
  '123123123123',
  'abcdefghijkl',
  'iloveyou1234',
  'qwertyuiop12',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'welcome12345',
  'letmein12345',
  'administrator',
  'changeme1234',
  'football1234',
  'baseball1234',
  'superman1234',
  'trustno11234',
  'qwertyqwerty',
  'asdfghjklzxc',
  'zaq12wsxcde3',
  'password123!',
  'p@ssw0rd1234',
  'portico-password',
]);

/** The reason a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, email?: string): Msg | null {
  if (password.length < MIN_PASSWORD_LENGTH) return msg('Use at least {min} characters.', { min: MIN_PASSWORD_LENGTH });
  if (password.length > 200) return msg('Use at most {max} characters.', { max: 200 });
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || /^(.)\1+$/.test(password)) return msg('This password is too common; choose another.');
  const local = email?.toLowerCase().split('@')[0] ?? '';
  if (local.length >= 4 && lower.includes(local) && lower.length < local.length + 8) {
    return msg('Do not build the password from your email address.');
  }
  return null;
}
