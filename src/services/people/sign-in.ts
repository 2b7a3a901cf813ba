import type { Db, Trx } from '../../db/index.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { verifyPassword } from './passwords.js';
import { ROLE_LABELS, type Actor, type Principal, type Role } from '../access/index.js';
// read while the module loads: from the pure module, whatever order the domains' index files load in
import { TWO_FACTOR_REQUIRABLE } from '../access/roles.js';
import { assertNotLocked, clearFailures, LIMITS, recordFailure } from '../platform/index.js';
import { loadOperator } from './operators.js';
import { msg, type Locale, type Msg } from '../platform/i18n.js';

/** `browserLocale`: the browser's first language Portico speaks, kept for mail to someone who chose none */
export type SignInInput = { email: string; password: string; address: string; browserLocale?: Locale };

const accountKey = (email: string) => `login:account:${email.trim().toLowerCase()}`;
const addressKey = (address: string) => `login:address:${address}`;
/** The sign-in counter of an address, which the second step's wrong codes count against too. */
export const signInAddressKey = addressKey;

/** Lifts the sign-in lock of an account (after its password was reset by a mailed link). */
export function clearSignInLockout(db: Db, email: string): Promise<void> {
  return clearFailures(db, accountKey(email));
}

/** Keeps the browser's language of a login that just signed in, for mail to someone who chose none. */
export async function rememberBrowserLanguage(db: Db | Trx, userId: string, locale: Locale): Promise<void> {
  await db('users')
    .where({ id: userId })
    .whereRaw('browser_locale is distinct from ?', [locale])
    .update({ browser_locale: locale });
}

/** A refused sign-in, with what the log needs (never the password): whose account, and whether it just locked. */
export class SignInRefused extends ValidationError {
  constructor(
    fields: Record<string, Msg>,
    readonly reason: 'missing' | 'credentials',
    readonly userId: string | null = null,
    /** what this failure just locked, if anything */
    readonly lockedNow: 'account' | 'address' | null = null,
  ) {
    super(fields, msg('Sign-in failed.'));
  }
}

/**
 * Checks a password sign-in. Wrong passwords count against the account (in a row) and the
 * address (in a window); a locked account refuses even the right password until the lock ends.
 * A deployment operator signs in as the operator; anyone else in their first role of a tenant
 * that is not disabled (a person whose tenants are all disabled is refused like a wrong password).
 */
export async function signIn(db: Db, now: Date, input: SignInInput): Promise<Principal> {
  const email = input.email.trim();
  const fields: Record<string, Msg> = {};
  if (!email) fields.email = msg('Enter your email address.');
  // no login has a longer one, and the failure counters are keyed by it
  else if (email.length > 254) fields.email = msg('An email address has at most 254 characters.');
  if (!input.password) fields.password = msg('Enter your password.');
  if (Object.keys(fields).length) throw new SignInRefused(fields, 'missing');

  await assertNotLocked(db, [accountKey(email), addressKey(input.address)], now, 'failed sign-ins');
  const user = await db('users')
    .whereRaw('lower(email) = lower(?)', [email])
    .first<{ id: string; password_hash: string | null; status: string } | undefined>('id', 'password_hash', 'status');
  const passwordOk = await verifyPassword(user?.password_hash, input.password);
  const usable = !!user && passwordOk && user.status === 'active';
  const operator = usable ? await loadOperator(db, user.id) : null;
  const membership = usable && !operator ? await firstMembership(db, user.id) : undefined;
  if (!user || (!operator && !membership)) {
    const accountLocked = await recordFailure(db, accountKey(email), LIMITS.loginAccount, now);
    const addressLocked = await recordFailure(db, addressKey(input.address), LIMITS.loginAddress, now);
    throw new SignInRefused(
      { password: msg('The email address or password is not right.') },
      'credentials',
      user?.id ?? null,
      accountLocked ? 'account' : addressLocked ? 'address' : null,
    );
  }
  await clearFailures(db, accountKey(email));
  if (input.browserLocale) await rememberBrowserLanguage(db, user.id, input.browserLocale);
  if (operator) return operator;
  const actor = await loadActor(db, user.id, membership!.id);
  if (!actor)
    throw new ValidationError({ password: msg('The email address or password is not right.') }, msg('Sign-in failed.'));
  return actor;
}

/**
 * Checks the password of a login that proves it is itself (accepting an invitation), under the same
 * locks and counters as signing in: a locked account is refused even the right password.
 */
export async function checkOwnPassword(
  db: Db,
  now: Date,
  email: string,
  password: string,
  address: string,
): Promise<void> {
  if (!password) throw new ValidationError({ password: msg('Enter your password.') });
  await assertNotLocked(db, [accountKey(email), addressKey(address)], now, 'failed sign-ins');
  const user = await db('users')
    .whereRaw('lower(email) = lower(?)', [email])
    .first<{ password_hash: string | null } | undefined>('password_hash');
  if (!(await verifyPassword(user?.password_hash, password))) {
    await recordFailure(db, accountKey(email), LIMITS.loginAccount, now);
    await recordFailure(db, addressKey(address), LIMITS.loginAddress, now);
    throw new ValidationError({ password: msg('That is not the password of this login.') });
  }
  await clearFailures(db, accountKey(email));
}

async function firstMembership(db: Db, userId: string) {
  return db('memberships as m')
    .join('tenants as t', 't.id', 'm.tenant_id')
    .where({ 'm.user_id': userId })
    .whereNull('m.disabled_at')
    .whereNull('t.disabled_at')
    .orderBy('m.created_at')
    .first<{ id: string } | undefined>('m.id');
}

/** What a session carries that decides, with the actor, whether it still counts. */
export type SessionCheck = {
  /** when the session was issued: one issued before its user's or membership's sessions_valid_after is ended */
  issuedAt: Date;
  /** a login link's session: the id of the link it was opened with, which must still be live; null if it has none */
  linkId?: string | null;
  now: Date;
};

/** What loadActor (and the session's own load, people/session-actor.ts) reads of a membership's actor. */
export type ActorRow = {
  email: string;
  name: string;
  time_zone: string;
  locale: Locale | null;
  tenant_id: string;
  tenant_name: string;
  role: Role;
  customer_id: string | null;
  partner_id: string | null;
  customer_title: string | null;
  partner_name: string | null;
  membership_count: number;
  must_change_password: boolean;
  must_set_up_two_factor: boolean;
};

const roleList = (roles: readonly Role[]) => roles.map((r) => `'${r}'`).join(', ');

/**
 * SQL over a membership `m` and its login `u`: the tenant requires two-factor of the membership's role
 * (two_factor_settings) and the login has none. The roles are the policy's constants, never input.
 */
export const MUST_SET_UP_TWO_FACTOR_SQL = `(exists (
    select 1 from two_factor_settings tf
    where tf.tenant_id = m.tenant_id
      and ((tf.staff and m.role in (${roleList(TWO_FACTOR_REQUIRABLE.staff)}))
        or (tf.company_admins and m.role in (${roleList(TWO_FACTOR_REQUIRABLE.companyAdmins)}))))
  and not exists (select 1 from two_factor_logins f where f.user_id = u.id))`;

export function actorFromRow(userId: string, membershipId: string, row: ActorRow): Actor {
  return {
    userId,
    membershipId,
    email: row.email,
    name: row.name,
    timeZone: row.time_zone,
    locale: row.locale ?? null,
    tenantId: row.tenant_id,
    tenantName: row.tenant_name,
    role: row.role,
    customerId: row.customer_id,
    partnerId: row.partner_id,
    placeName: row.customer_title ?? row.partner_name ?? row.tenant_name,
    membershipCount: row.membership_count,
    ...(row.must_change_password ? { mustChangePassword: true } : {}),
    ...(row.must_set_up_two_factor ? { mustSetUpTwoFactor: true } : {}),
  };
}

/**
 * The actor a session acts as, or null when the user or membership is gone or disabled; with `session`,
 * also null when the session was revoked or its login link no longer works (in the same round trip).
 */
export async function loadActor(
  db: Db,
  userId: string,
  membershipId: string,
  session?: SessionCheck,
): Promise<Actor | null> {
  const q = db('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .join('tenants as t', 't.id', 'm.tenant_id')
    .leftJoin('customers as c', function () {
      this.on('c.tenant_id', 'm.tenant_id').andOn('c.id', 'm.customer_id');
    })
    .leftJoin('partners as p', function () {
      this.on('p.tenant_id', 'm.tenant_id').andOn('p.id', 'm.partner_id');
    })
    .where({ 'm.id': membershipId, 'u.id': userId, 'u.status': 'active' })
    // a membership disabled by its customer no longer acts, whatever the login's other roles
    .whereNull('m.disabled_at')
    .whereNull('t.disabled_at')
    .first<ActorRow | undefined>(
      'u.email',
      'u.name',
      'u.time_zone',
      'u.locale',
      'm.tenant_id',
      't.name as tenant_name',
      'm.role',
      'm.customer_id',
      'm.partner_id',
      'c.title as customer_title',
      'p.name as partner_name',
      db.raw(
        `(select count(*)::int from memberships o join tenants ot on ot.id = o.tenant_id
           where o.user_id = u.id and o.disabled_at is null and o.invited_at is null
             and ot.disabled_at is null) as membership_count`,
      ),
      'u.must_change_password',
      db.raw(`${MUST_SET_UP_TWO_FACTOR_SQL} as must_set_up_two_factor`),
    );
  if (session) {
    const { issuedAt, linkId, now } = session;
    q.where((w) => w.whereNull('u.sessions_valid_after').orWhere('u.sessions_valid_after', '<=', issuedAt));
    q.where((w) => w.whereNull('m.sessions_valid_after').orWhere('m.sessions_valid_after', '<=', issuedAt));
    if (linkId === null) q.whereRaw('false');
    else if (linkId)
      q.whereExists(
        db('user_tokens as l')
          .whereRaw('l.user_id = u.id')
          .where({ 'l.id': linkId, 'l.purpose': 'login_link' })
          .whereNull('l.revoked_at')
          .where('l.expires_at', '>', now),
      );
  }
  const row = await q;
  if (!row) return null;
  return actorFromRow(userId, membershipId, row);
}

export type MembershipChoice = {
  id: string;
  role: Role;
  roleLabel: string;
  /** whose account it is: a customer's, a partner's, or the provider's own (staff) */
  kind: 'customer' | 'partner' | 'provider';
  placeName: string;
  tenantName: string;
  current: boolean;
};

/**
 * Every role a person holds (a login may be, say, a company admin of one customer and a partner
 * viewer of a reseller), for the switcher and the settings page; across tenants, since the person is the
 * same. Only those that act: a disabled membership or tenant is not one, nor an invitation not yet accepted.
 */
export async function listMembershipsOf(db: Db, actor: Actor): Promise<MembershipChoice[]> {
  const rows = await db('memberships as m')
    .join('tenants as t', 't.id', 'm.tenant_id')
    .leftJoin('customers as c', function () {
      this.on('c.tenant_id', 'm.tenant_id').andOn('c.id', 'm.customer_id');
    })
    .leftJoin('partners as p', function () {
      this.on('p.tenant_id', 'm.tenant_id').andOn('p.id', 'm.partner_id');
    })
    .where('m.user_id', actor.userId)
    .whereNull('m.disabled_at')
    .whereNull('m.invited_at')
    .whereNull('t.disabled_at')
    .orderBy(['t.name', 'm.created_at'])
    .select<
      { id: string; role: Role; tenant_name: string; customer_title: string | null; partner_name: string | null }[]
    >('m.id', 'm.role', 't.name as tenant_name', 'c.title as customer_title', 'p.name as partner_name');
  return rows.map((r) => ({
    id: r.id,
    role: r.role,
    roleLabel: ROLE_LABELS[r.role],
    kind: r.customer_title !== null ? 'customer' : r.partner_name !== null ? 'partner' : 'provider',
    placeName: r.customer_title ?? r.partner_name ?? r.tenant_name,
    tenantName: r.tenant_name,
    current: r.id === actor.membershipId,
  }));
}

/** The actor the person becomes by switching to another of their own memberships; 404 for anyone else's. */
export async function switchMembership(db: Db, actor: Actor, membershipId: string): Promise<Actor> {
  const next = /^[0-9a-f-]{36}$/i.test(membershipId) ? await loadActor(db, actor.userId, membershipId) : null;
  if (!next) throw new NotFoundError('That role is not one of yours.');
  return next;
}
