import type { Db } from '../../db/index.js';
import { TooManyRequestsError } from '../../errors.js';

export type Limit = {
  /** failures allowed before the lock */
  max: number;
  /** window the failures are counted in (ignored when consecutive) */
  windowMs: number;
  lockMs: number;
  /** failures in a row: a success clears them */
  consecutive: boolean;
};

export const LIMITS = {
  loginAccount: { max: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000, consecutive: true },
  loginAddress: { max: 101, windowMs: 15 * 60_000, lockMs: 15 * 60_000, consecutive: false },
  tokenAddress: { max: 30, windowMs: 15 * 60_000, lockMs: 15 * 60_000, consecutive: false },
  mailAccount: { max: 5, windowMs: 60 * 60_000, lockMs: 60 * 60_000, consecutive: false },
  /** reset links mailed to one account: five an hour */
  resetAccount: { max: 5, windowMs: 60 * 60_000, lockMs: 60 * 60_000, consecutive: false },
  /** wrong current passwords on the settings page, in a row */
  passwordChange: { max: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000, consecutive: true },
  /** wrong mobile verification codes, in a row: five tries at a 6-digit code */
  verificationCode: { max: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000, consecutive: true },
  /** wrong codes at sign-in's second step, in a row: the step locks for 15 minutes (DESIGN section 10) */
  twoFactorCode: { max: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000, consecutive: true },
  /** wrong passwords or codes when turning two-factor off or on, in a row */
  twoFactorChange: { max: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000, consecutive: true },
} satisfies Record<string, Limit>;

function minutesLeft(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
}

/** Throws TooManyRequestsError while any of the keys is locked. */
export async function assertNotLocked(db: Db, keys: string[], now: Date, what = 'attempts'): Promise<void> {
  const row = await db('rate_limits')
    .whereIn('key', keys)
    .where('locked_until', '>', now)
    .orderBy('locked_until', 'desc')
    .first<{ locked_until: Date } | undefined>('locked_until');
  if (row) {
    const n = minutesLeft(row.locked_until, now);
    throw new TooManyRequestsError(`Too many ${what}. Try again in ${n} minute${n === 1 ? '' : 's'}.`, n * 60);
  }
}

/** Counts one failure against key; locks it when the limit is passed. Returns true when now locked. */
export async function recordFailure(db: Db, key: string, limit: Limit, now: Date): Promise<boolean> {
  const windowStart = new Date(now.getTime() - limit.windowMs);
  const lockedUntil = new Date(now.getTime() + limit.lockMs);
  const { rows } = await db.raw<{ rows: { locked_until: Date | null }[] }>(
    `insert into rate_limits as r (key, failures, window_started_at) values (?, 1, ?)
     on conflict (key) do update set
       failures = case when r.locked_until > ? then r.failures
                       when not ? and r.window_started_at < ? then 1
                       else r.failures + 1 end,
       window_started_at = case when not ? and r.window_started_at < ? then excluded.window_started_at
                                else r.window_started_at end
     returning failures, locked_until`,
    [key, now, now, limit.consecutive, windowStart, limit.consecutive, windowStart],
  );
  const failures = (rows[0] as unknown as { failures: number }).failures;
  if (failures >= limit.max && !(rows[0]!.locked_until && rows[0]!.locked_until > now)) {
    await db('rate_limits').where({ key }).update({ locked_until: lockedUntil, failures: 0, window_started_at: now });
    return true;
  }
  return false;
}

export async function clearFailures(db: Db, key: string): Promise<void> {
  await db('rate_limits').where({ key }).del();
}

/**
 * Counts one request against a fixed one-minute window of `key` (an API key's requests); throws
 * TooManyRequestsError, with the seconds until the window ends, past `perMinute`. One statement, so
 * several instances share the count.
 */
export async function countRequest(db: Db, key: string, perMinute: number, now: Date): Promise<void> {
  const windowStart = new Date(now.getTime() - 60_000);
  const { rows } = await db.raw<{ rows: { failures: number; window_started_at: Date }[] }>(
    `insert into rate_limits as r (key, failures, window_started_at) values (?, 1, ?)
     on conflict (key) do update set
       failures = case when r.window_started_at <= ? then 1 else r.failures + 1 end,
       window_started_at = case when r.window_started_at <= ? then excluded.window_started_at
                                else r.window_started_at end
     returning failures, window_started_at`,
    [key, now, windowStart, windowStart],
  );
  const row = rows[0]!;
  if (row.failures > perMinute) {
    const seconds = Math.max(1, Math.ceil((row.window_started_at.getTime() + 60_000 - now.getTime()) / 1000));
    throw new TooManyRequestsError(
      `More than ${perMinute} requests a minute with this key. Try again in ${seconds} seconds.`,
      seconds,
    );
  }
}
