import type { Db, Trx } from '../../db/index.js';
import { ValidationError } from '../../errors.js';
import { issueToken } from '../platform/index.js';
import type { OperatorActor } from '../access/index.js';
import { DUPLICATE_EMAIL, newUserProblems, withUniqueEmail } from './new-users.js';
import { ACTIVATION_DAYS } from './activation.js';
import { english, type Locale, type Msg, type Translator } from '../platform/i18n.js';

/**
 * Deployment operators: logins that belong to no tenant. They have a `users` row like everyone
 * (one email, one password, sessions) and an `operators` row instead of memberships.
 */

/** What the header shows beside an operator's name. */
export const OPERATOR_PLACE = 'Portico deployment';

/**
 * The operator a session acts as, or null when the login is gone, disabled or no longer an operator;
 * with `issuedAt`, also null when the session was issued before the login's sessions_valid_after.
 */
export async function loadOperator(
  db: Db | Trx,
  userId: string,
  session?: { issuedAt: Date },
): Promise<OperatorActor | null> {
  const q = db('operators as o')
    .join('users as u', 'u.id', 'o.user_id')
    .where({ 'o.user_id': userId, 'u.status': 'active' });
  if (session)
    q.where((w) => w.whereNull('u.sessions_valid_after').orWhere('u.sessions_valid_after', '<=', session.issuedAt));
  const row = await q.first<{ email: string; name: string; time_zone: string; locale: Locale | null } | undefined>(
    'u.email',
    'u.name',
    'u.time_zone',
    'u.locale',
  );
  if (!row) return null;
  return operatorFromRow(userId, row);
}

export function operatorFromRow(
  userId: string,
  row: { email: string; name: string; time_zone: string; locale: Locale | null },
): OperatorActor {
  return {
    role: 'operator',
    userId,
    email: row.email,
    name: row.name,
    timeZone: row.time_zone,
    locale: row.locale ?? null,
    placeName: OPERATOR_PLACE,
  };
}

export type NewLogin = { email: string; name?: string };

/** A name to greet a new login by until they choose their own: the part of the address before the @. */
export function nameFromEmail(email: string): string {
  return email.trim().split('@')[0]!.slice(0, 200);
}

/**
 * What is wrong with a new login's email and name, if anything: the email must be valid and no
 * login of the deployment may have it yet. Used for operators and a tenant's first admin.
 */
export async function newLoginProblems(trx: Trx, input: NewLogin): Promise<{ email?: Msg; name?: Msg }> {
  const email = input.email.trim();
  const name = input.name?.trim() || nameFromEmail(email);
  const { email: emailProblem, name: nameProblem } = newUserProblems({ name, email, activation: 'link' });
  if (emailProblem) return { email: emailProblem, ...(nameProblem ? { name: nameProblem } : {}) };
  const taken = await trx('users').whereRaw('lower(email) = lower(?)', [email]).first('id');
  return { ...(taken ? { email: DUPLICATE_EMAIL } : {}), ...(nameProblem ? { name: nameProblem } : {}) };
}

/** A pending login (no password yet), once newLoginProblems found nothing. */
export async function insertPendingLogin(
  trx: Trx,
  input: NewLogin,
  now: Date,
): Promise<{ id: string; email: string; name: string }> {
  const email = input.email.trim();
  const name = input.name?.trim() || nameFromEmail(email);
  const [row] = await trx('users')
    .insert({ email, name, status: 'pending', password_hash: null, created_at: now, updated_at: now })
    .returning<{ id: string }[]>('id');
  return { id: row!.id, email, name };
}

/**
 * Makes a deployment operator: a pending login and its single-use activation link (the raw token is
 * returned to print, and kept nowhere). For the command line, run with the server's environment,
 * which holds the keys to the whole database anyway: no signed-in person is asked.
 */
export async function createOperator(
  db: Db,
  input: NewLogin,
  now: Date,
): Promise<{ user: { id: string; email: string; name: string }; token: string; expiresAt: Date }> {
  return withUniqueEmail({}, () =>
    db.transaction(async (trx) => {
      const problems = await newLoginProblems(trx, input);
      if (Object.keys(problems).length) throw new ValidationError(problems);
      const user = await insertPendingLogin(trx, input, now);
      await trx('operators').insert({ user_id: user.id, created_at: now });
      const { token, expiresAt } = await issueToken(trx, {
        userId: user.id,
        tenantId: null,
        purpose: 'activation',
        now,
      });
      return { user, token, expiresAt };
    }),
  );
}

/**
 * The mail that carries an operator's activation link. It belongs to no tenant, so it goes straight
 * to the SMTP server from the command line that made it (which says whether it went), not through a
 * tenant's outbox.
 */
export function operatorActivationMail(user: { name: string; email: string }, link: string, tr: Translator = english) {
  return {
    to: user.email,
    subject: tr.t('Activate your Portico operator account'),
    text: [
      tr.t('Hello {name},', { name: user.name }),
      '',
      tr.t('A Portico account was created for you as an operator of this deployment: you will create and'),
      tr.t('disable its tenants and look after its scheduled jobs and mail. To choose your password and'),
      tr.t('activate the account, open this link:'),
      '',
      link,
      '',
      tr.t('The link works once and expires in {days} days.', { days: ACTIVATION_DAYS }),
      '',
      tr.t('If you did not expect this message, you can ignore it.'),
    ].join('\n'),
  };
}
