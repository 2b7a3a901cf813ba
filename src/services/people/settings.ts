import { createHash } from 'node:crypto';
import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { assertNotLocked, audit, clearFailures, LIMITS, recordFailure } from '../platform/index.js';
import { isLocale, msg, type Locale, type Msg } from '../platform/i18n.js';
import { isTimeZone } from '../platform/time-format.js';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { endOwnSession, listSessionsOfUser, revokeSessionsOfUser } from './sessions.js';
import { deviceOf } from './user-agent.js';

/** `locale`: the language they chose; null follows their browser */
export type Profile = { name: string; email: string; timeZone: string; locale: Locale | null };

export type OwnSession = {
  /** a handle derived from the session id: the id itself never reaches a page */
  id: string;
  current: boolean;
  device: Msg;
  userAgent: string | null;
  createdAt: Date | null;
  lastSeenAt: Date | null;
  /** a staff member viewing as the person ("view as"): their name; ending it ends the view only */
  viewedBy?: string;
};

const sessionHandle = (sid: string) => createHash('sha256').update(sid).digest('hex').slice(0, 32);

export async function loadProfile(db: Db, actor: Actor): Promise<Profile> {
  authorize(actor, 'settings.view');
  const row = await asActor(db, actor, (trx) =>
    trx('users')
      .where({ id: actor.userId })
      .first<{ name: string; email: string; time_zone: string; locale: Locale | null }>(
        'name',
        'email',
        'time_zone',
        'locale',
      ),
  );
  if (!row) throw new NotFoundError();
  return { name: row.name, email: row.email, timeZone: row.time_zone, locale: row.locale };
}

/** The user's signed-in sessions, the one making the request first. */
export async function listOwnSessions(db: Db, actor: Actor, now: Date, currentSid: string): Promise<OwnSession[]> {
  authorize(actor, 'settings.view');
  const sessions = await asActor(db, actor, (trx) => ownSessions(trx, actor, now, currentSid));
  return sessions.map(({ sid: _sid, view: _view, ...s }) => s);
}

async function ownSessions(trx: Trx, actor: Actor, now: Date, currentSid: string) {
  const rows = await listSessionsOfUser(trx, actor.userId, now);
  return rows
    .map((s) => ({
      id: sessionHandle(s.sid),
      sid: s.sid,
      current: s.sid === currentSid,
      device: deviceOf(s.userAgent),
      userAgent: s.userAgent,
      createdAt: s.createdAt,
      lastSeenAt: s.lastSeenAt,
      view: s.viewedBy,
      ...(s.viewedBy ? { viewedBy: s.viewedBy.name } : {}),
    }))
    .sort((a, b) => Number(b.current) - Number(a.current));
}

/** `language`: '' to follow the browser, or one of LOCALES; left out, the language stays as it is */
export type ProfileInput = { name: string; timeZone: string; language?: string };

export async function updateProfile(db: Db, actor: Actor, input: ProfileInput): Promise<void> {
  authorize(actor, 'settings.view');
  const name = input.name.trim();
  const fields: Record<string, Msg> = {};
  if (!name) fields.name = msg('Enter your name.');
  else if (name.length > 200) fields.name = msg('Use at most 200 characters.');
  if (!isTimeZone(input.timeZone)) fields.timeZone = msg('Choose a time zone from the list.');
  const language = input.language === undefined ? undefined : input.language === '' ? null : input.language;
  if (language !== undefined && language !== null && !isLocale(language))
    fields.language = msg('Choose a language from the list.');
  if (Object.keys(fields).length) throw new ValidationError(fields);

  await asActor(db, actor, async (trx) => {
    const before = await trx('users')
      .where({ id: actor.userId })
      .first<{ name: string; time_zone: string; locale: Locale | null }>('name', 'time_zone', 'locale');
    if (!before) throw new NotFoundError();
    const locale = language === undefined ? before.locale : (language as Locale | null);
    if (before.name === name && before.time_zone === input.timeZone && before.locale === locale) return;
    await trx('users')
      .where({ id: actor.userId })
      .update({ name, time_zone: input.timeZone, locale, updated_at: trx.fn.now() });
    await audit(trx, actor, {
      entityType: 'user',
      entityId: actor.userId,
      action: 'user.updated',
      before: { name: before.name, timeZone: before.time_zone, language: before.locale },
      after: { name, timeZone: input.timeZone, language: locale },
    });
  });
}

export type PasswordChangeInput = { current: string; password: string; passwordConfirm: string };

const changeKey = (userId: string) => `password-change:${userId}`;

/**
 * Changes the user's password after checking the current one; every other session of the user
 * ends, this one stays. Wrong current passwords in a row lock the form like failed sign-ins.
 */
export async function changePassword(
  db: Db,
  actor: Actor,
  currentSid: string,
  input: PasswordChangeInput,
  now = new Date(),
): Promise<{ sessionsEnded: number }> {
  authorize(actor, 'settings.view');
  await assertNotLocked(db, [changeKey(actor.userId)], now, 'wrong passwords');
  type Outcome = { fields: Record<string, Msg>; wrongCurrent: boolean } | { sessionsEnded: number };
  const outcome = await asActor(db, actor, async (trx): Promise<Outcome> => {
    const user = await trx('users')
      .where({ id: actor.userId })
      .first<{ password_hash: string | null; email: string } | undefined>('password_hash', 'email');
    if (!user) throw new NotFoundError();
    const currentOk = !!input.current && (await verifyPassword(user.password_hash, input.current));
    const fields: Record<string, Msg> = {};
    if (!input.current) fields.current = msg('Enter your current password.');
    else if (!currentOk) fields.current = msg('This is not your current password.');
    const problem = passwordProblem(input.password, user.email);
    if (problem) fields.password = problem;
    else if (input.password === input.current)
      fields.password = msg('Choose a password different from your current one.');
    else if (input.password !== input.passwordConfirm) fields.passwordConfirm = msg('The two passwords do not match.');
    if (Object.keys(fields).length) return { fields, wrongCurrent: !!input.current && !currentOk };

    await trx('users')
      .where({ id: actor.userId })
      .update({ password_hash: await hashPassword(input.password), updated_at: now });
    const sessionsEnded = await revokeSessionsOfUser(trx, actor.userId, now, currentSid);
    await audit(trx, actor, {
      entityType: 'user',
      entityId: actor.userId,
      action: 'user.password_changed',
      after: { otherSessionsEnded: sessionsEnded },
    });
    return { sessionsEnded };
  });
  if ('fields' in outcome) {
    // counted outside the transaction, which a refused change leaves without a trace
    if (outcome.wrongCurrent) await recordFailure(db, changeKey(actor.userId), LIMITS.passwordChange, now);
    throw new ValidationError(outcome.fields);
  }
  await clearFailures(db, changeKey(actor.userId));
  return outcome;
}

/** Ends one of the user's other sessions; someone else's session, or none, is not found. */
export async function endSession(
  db: Db,
  actor: Actor,
  now: Date,
  id: string,
  currentSid: string,
): Promise<{ device: Msg; viewEndedOf?: string }> {
  authorize(actor, 'settings.view');
  return asActor(db, actor, async (trx) => {
    const session = (await ownSessions(trx, actor, now, currentSid)).find((s) => s.id === id);
    if (!session) throw new NotFoundError('That session has already ended, or is not yours.');
    if (session.current) throw new ConflictError('This is the session you are using now: use Sign out instead.');
    const ended = await endOwnSession(trx, actor.userId, session.sid);
    if (!ended) throw new NotFoundError('That session has already ended, or is not yours.');
    if (ended === 'view' && session.view)
      await audit(trx, actor, {
        entityType: 'user',
        entityId: actor.userId,
        action: 'user.view_as_ended',
        customerId: session.view.customerId,
        after: {
          reason: 'ended_by_person',
          staffUserId: session.view.staffUserId,
          startedAt: new Date(session.view.startedAt).toISOString(),
        },
      });
    return { device: session.device, ...(ended === 'view' ? { viewEndedOf: session.viewedBy } : {}) };
  });
}

/** "Sign out everywhere else": every session of the user but this one, which the route then issues anew. */
export async function endOtherSessions(db: Db, actor: Actor, currentSid: string, now: Date): Promise<number> {
  authorize(actor, 'settings.view');
  return asActor(db, actor, (trx) => revokeSessionsOfUser(trx, actor.userId, now, currentSid));
}

/**
 * The first thing a person does after signing in with a password staff generated or typed: choose
 * their own. No current password is asked (they just typed it); it must differ from it. Their other
 * sessions end, this one stays, and from then on they reach the portal as usual.
 */
export async function replaceStaffSetPassword(
  db: Db,
  actor: Actor,
  currentSid: string,
  input: { password: string; passwordConfirm: string },
  now: Date,
): Promise<void> {
  authorize(actor, 'settings.view');
  await asActor(db, actor, async (trx) => {
    const user = await trx('users')
      .where({ id: actor.userId })
      .first<{ password_hash: string | null; email: string; must_change_password: boolean } | undefined>(
        'password_hash',
        'email',
        'must_change_password',
      );
    if (!user) throw new NotFoundError();
    if (!user.must_change_password)
      throw new ConflictError('Your password is your own already: change it under Settings.');
    const fields: Record<string, Msg> = {};
    const problem = passwordProblem(input.password, user.email);
    if (problem) fields.password = problem;
    else if (await verifyPassword(user.password_hash, input.password))
      fields.password = msg('Choose a password different from the one you were given.');
    else if (input.password !== input.passwordConfirm) fields.passwordConfirm = msg('The two passwords do not match.');
    if (Object.keys(fields).length) throw new ValidationError(fields);
    await trx('users')
      .where({ id: actor.userId })
      .update({ password_hash: await hashPassword(input.password), must_change_password: false, updated_at: now });
    const sessionsEnded = await revokeSessionsOfUser(trx, actor.userId, now, currentSid);
    await audit(trx, actor, {
      entityType: 'user',
      entityId: actor.userId,
      action: 'user.password_changed',
      customerId: actor.customerId,
      after: { replacedStaffSetPassword: true, otherSessionsEnded: sessionsEnded },
    });
  });
}
