import type { Db, Trx } from '../../db/index.js';
import { ConflictError, TooManyRequestsError, ValidationError } from '../../errors.js';
import { assertNotLocked, audit, clearFailures, LIMITS, recordFailure } from '../platform/index.js';
import {
  type Actor,
  asActor,
  authorize,
  authorizeOwnTwoFactor,
  inTenant,
  isOperator,
  type Principal,
} from '../access/index.js';
import { enqueueMail } from '../mail/index.js';
import { verifyPassword } from './passwords.js';
import { signInAddressKey } from './sign-in.js';
import { type CustomerUser, findUserInReach } from './users.js';
import {
  decryptSecret,
  encryptSecret,
  matchTotpStep,
  newRecoveryCodes,
  readSecondFactor,
  recoveryCodeHash,
} from './two-factor-rules.js';
import { msg, type Msg, type Translator } from '../platform/i18n.js';
import { translatorForUser } from './mail-language.js';

/**
 * Two-factor sign-in: a login turns it on with a code from its app (and gets ten recovery codes, shown
 * once), signs in with a code after its password, turns it off with its password and a code; staff reset
 * it for a customer's person; a tenant requires it of its staff or its company admins. `key` is
 * twoFactorKey(SESSION_SECRET): the secret is stored encrypted under it, the recovery codes hashed with it.
 */

const codeKey = (userId: string) => `two-factor:account:${userId}`;
const changeKey = (userId: string) => `two-factor-change:${userId}`;

const WRONG_CODE = msg('That code is not right. Enter the current code from your app.');
const NOT_A_CODE = msg('Enter the 6-digit code from your app, or one of your recovery codes (like abcd-efgh).');

export type TwoFactorState = { enabled: boolean; enabledAt: Date | null; recoveryCodesLeft: number };

/** Whether a login signs in with a second step. */
export async function hasTwoFactor(db: Db | Trx, userId: string): Promise<boolean> {
  return !!(await db('two_factor_logins').where({ user_id: userId }).first('user_id'));
}

/** The signed-in person's own two-factor sign-in, for their settings. */
export async function ownTwoFactor(db: Db, who: Principal): Promise<TwoFactorState> {
  authorizeOwnTwoFactor(who);
  const row = await db('two_factor_logins')
    .where({ user_id: who.userId })
    .first<{ enabled_at: Date } | undefined>('enabled_at');
  if (!row) return { enabled: false, enabledAt: null, recoveryCodesLeft: 0 };
  const left = (await db('two_factor_recovery_codes').where({ user_id: who.userId }).count({ n: '*' }).first()) as {
    n: string | number;
  };
  return { enabled: true, enabledAt: row.enabled_at, recoveryCodesLeft: Number(left.n) };
}

/** Audits a person's own change in their tenant (an operator has none: the log keeps it). Last in its transaction. */
async function auditOwn(trx: Trx, who: Principal, action: string) {
  if (isOperator(who)) return;
  await inTenant(trx, who.tenantId, (t) =>
    audit(t, who, { entityType: 'user', entityId: who.userId, action, customerId: who.customerId }),
  );
}

/**
 * Turns two-factor on with the secret the setup page showed and one current code from the app; returns
 * the ten recovery codes, which exist in clear only in this answer.
 */
export async function enableTwoFactor(
  db: Db,
  who: Principal,
  key: Buffer,
  input: { secret: string; code: string },
  now: Date,
): Promise<string[]> {
  authorizeOwnTwoFactor(who);
  await assertNotLocked(db, [changeKey(who.userId)], now, 'wrong codes');
  const factor = readSecondFactor(input.code);
  if (!factor || factor.kind !== 'totp')
    throw new ValidationError({ code: msg('Enter the 6-digit code from your app.') });
  const step = matchTotpStep(input.secret, factor.code, now);
  if (step === null) {
    await recordFailure(db, changeKey(who.userId), LIMITS.twoFactorChange, now);
    throw new ValidationError({ code: WRONG_CODE });
  }
  const codes = newRecoveryCodes();
  await db.transaction(async (trx) => {
    const inserted = await trx('two_factor_logins')
      .insert({
        user_id: who.userId,
        secret: encryptSecret(key, who.userId, input.secret),
        last_step: step,
        enabled_at: now,
      })
      .onConflict('user_id')
      .ignore()
      .returning('user_id');
    if (!inserted.length) throw new ConflictError('Two-factor sign-in is already on.');
    await trx('two_factor_recovery_codes').insert(
      codes.map((c) => ({ user_id: who.userId, code_hash: recoveryCodeHash(key, who.userId, c) })),
    );
    await auditOwn(trx, who, 'user.two_factor_enabled');
  });
  await clearFailures(db, changeKey(who.userId));
  return codes;
}

/** Turns two-factor off: the person's password and a current code (or a recovery code), both. */
export async function disableTwoFactor(
  db: Db,
  who: Principal,
  key: Buffer,
  input: { password: string; code: string },
  now: Date,
): Promise<void> {
  authorizeOwnTwoFactor(who);
  await assertNotLocked(db, [changeKey(who.userId)], now, 'wrong passwords or codes');
  const fields: Record<string, Msg> = {};
  if (!input.password) fields.password = msg('Enter your password.');
  if (!input.code.trim()) fields.code = msg('Enter the 6-digit code from your app.');
  if (Object.keys(fields).length) throw new ValidationError(fields);
  const user = await db('users').where({ id: who.userId }).first<{ password_hash: string | null }>('password_hash');
  if (!(await verifyPassword(user?.password_hash, input.password))) fields.password = msg('This is not your password.');
  if (!(await useSecondFactor(db, key, who.userId, input.code, now))) fields.code = WRONG_CODE;
  if (Object.keys(fields).length) {
    await recordFailure(db, changeKey(who.userId), LIMITS.twoFactorChange, now);
    throw new ValidationError(fields);
  }
  await db.transaction(async (trx) => {
    await trx('two_factor_logins').where({ user_id: who.userId }).del();
    await auditOwn(trx, who, 'user.two_factor_disabled');
  });
  await clearFailures(db, changeKey(who.userId));
}

/**
 * Checks and spends a code of a login: a TOTP code of a step after the last one accepted (so a code seen
 * over a shoulder cannot be used again), or a recovery code, which goes. One statement each: two requests
 * with the same code cannot both pass.
 */
async function useSecondFactor(db: Db, key: Buffer, userId: string, code: string, now: Date): Promise<boolean> {
  const factor = readSecondFactor(code);
  if (!factor) return false;
  if (factor.kind === 'recovery') {
    const used = await db('two_factor_recovery_codes')
      .where({ user_id: userId, code_hash: recoveryCodeHash(key, userId, factor.code) })
      .del();
    return used > 0;
  }
  const row = await db('two_factor_logins').where({ user_id: userId }).first<{ secret: string } | undefined>('secret');
  if (!row) return false;
  const secret = readStoredSecret(key, userId, row.secret);
  const step = secret === null ? null : matchTotpStep(secret, factor.code, now);
  if (step === null) return false;
  const taken = await db('two_factor_logins')
    .where({ user_id: userId })
    .where((w) => w.whereNull('last_step').orWhere('last_step', '<', step))
    .update({ last_step: step });
  return taken > 0;
}

/** The stored secret, or null when it was stored under another SESSION_SECRET (the code cannot match then). */
function readStoredSecret(key: Buffer, userId: string, stored: string): string | null {
  try {
    return decryptSecret(key, userId, stored);
  } catch {
    return null;
  }
}

/**
 * Sign-in's second step: a code from the app or a recovery code. Wrong codes count against the login (five
 * in a row lock the step for 15 minutes) and, with wrong passwords, against the address.
 */
export async function checkSecondStep(
  db: Db,
  key: Buffer,
  input: { userId: string; code: string; address: string },
  now: Date,
): Promise<{ recoveryCode: boolean }> {
  const { userId, address } = input;
  const keys = [codeKey(userId), signInAddressKey(address)];
  await assertNotLocked(db, keys, now, 'wrong codes');
  if (!input.code.trim()) throw new ValidationError({ code: NOT_A_CODE });
  const factor = readSecondFactor(input.code);
  if (!factor || !(await useSecondFactor(db, key, userId, input.code, now))) {
    const locked = await recordFailure(db, codeKey(userId), LIMITS.twoFactorCode, now);
    await recordFailure(db, signInAddressKey(address), LIMITS.loginAddress, now);
    if (locked) throw new TooManyRequestsError('Too many wrong codes. Try again in 15 minutes.', 15 * 60);
    throw new ValidationError({ code: factor ? msg('That code is not right, or it was already used.') : NOT_A_CODE });
  }
  await clearFailures(db, codeKey(userId));
  return { recoveryCode: factor.kind === 'recovery' };
}

// ---- the tenant's requirement ----

export type TwoFactorRequirement = { staff: boolean; companyAdmins: boolean };

export async function twoFactorRequirement(db: Db, actor: Actor): Promise<TwoFactorRequirement> {
  authorize(actor, 'tenant_settings.manage');
  return asActor(db, actor, (trx) => readRequirement(trx, actor.tenantId));
}

async function readRequirement(trx: Trx, tenantId: string): Promise<TwoFactorRequirement> {
  const row = await trx('two_factor_settings')
    .where({ tenant_id: tenantId })
    .first<{ staff: boolean; company_admins: boolean } | undefined>('staff', 'company_admins');
  return { staff: !!row?.staff, companyAdmins: !!row?.company_admins };
}

/** Requires two-factor of the tenant's staff and/or its customers' company admins, from their next request on. */
export async function setTwoFactorRequirement(db: Db, actor: Actor, next: TwoFactorRequirement): Promise<boolean> {
  authorize(actor, 'tenant_settings.manage');
  return asActor(db, actor, async (trx) => {
    const before = await readRequirement(trx, actor.tenantId);
    if (before.staff === next.staff && before.companyAdmins === next.companyAdmins) return false;
    const row = { staff: next.staff, company_admins: next.companyAdmins };
    await trx('two_factor_settings')
      .insert({ tenant_id: actor.tenantId, ...row })
      .onConflict('tenant_id')
      .merge({ ...row, updated_at: trx.fn.now() });
    await audit(trx, actor, {
      entityType: 'tenant',
      entityId: actor.tenantId,
      action: 'tenant.two_factor_requirement_changed',
      before,
      after: next,
    });
    return true;
  });
}

// ---- staff reset a customer's person ----

/** Whether a customer's person signs in with two-factor, for the staff user page. */
export async function customerUserTwoFactor(db: Db, actor: Actor, user: CustomerUser): Promise<{ enabled: boolean }> {
  authorize(actor, 'customer_user.manage');
  // portico_app may read whether a login has it, never the secret
  return asActor(db, actor, async (trx) => ({ enabled: await hasTwoFactor(trx, user.id) }));
}

/**
 * Staff turn off a person's two-factor (a lost phone and lost recovery codes): audited in the customer's
 * log and mailed to the person. A login that also signs in with another provider, or as the operator, is
 * not this tenant's to weaken: refused.
 */
export async function resetCustomerUserTwoFactor(
  db: Db,
  actor: Actor,
  userId: string,
  opts: { customerId: string; now: Date; baseUrl: string },
): Promise<CustomerUser> {
  authorize(actor, 'customer_user.manage');
  return asActor(db, actor, async (trx) => {
    const user = await findUserInReach(trx, actor, userId, opts.customerId, true);
    if (user.status === 'pending' || !(await hasTwoFactor(trx, user.id)))
      throw new ConflictError('{name} does not sign in with two-factor.').withValues({ name: user.name });
    // memberships of other tenants and the operators table are out of the tenant role's sight: asked as the deployment
    const elsewhere = await db.raw<{ rows: { found: boolean }[] }>(
      `select exists (select 1 from memberships where user_id = ? and tenant_id <> ?)
           or exists (select 1 from operators where user_id = ?) as found`,
      [user.id, actor.tenantId, user.id],
    );
    if (elsewhere.rows[0]?.found)
      throw new ConflictError(
        '{name} also signs in with another provider, so only they can turn two-factor off, from their settings.',
      ).withValues({ name: user.name });
    await trx('two_factor_logins').where({ user_id: user.id }).del();
    await audit(trx, actor, {
      entityType: 'user',
      entityId: user.id,
      action: 'user.two_factor_reset',
      customerId: user.customerId,
    });
    const tr = await translatorForUser(trx, user.id);
    await enqueueMail(trx, {
      tenantId: actor.tenantId,
      kind: 'two_factor_reset',
      to: user.email,
      userId: user.id,
      subject: tr.t('Your two-factor sign-in was turned off'),
      text: resetMailText(tr, user.name, actor, opts.baseUrl),
    });
    return user;
  });
}

function resetMailText(tr: Translator, name: string, actor: Actor, baseUrl: string): string {
  const provider = actor.tenantName;
  return [
    tr.t('Hello {name},', { name }),
    '',
    tr.t(
      '{staff} of {provider} turned off two-factor sign-in for your Portico login. From now on your password alone signs you in, and your old recovery codes no longer work.',
      { staff: actor.name, provider },
    ),
    '',
    tr.t('Turn it on again, with your app, at {url}', { url: `${baseUrl}/settings/two-factor` }),
    '',
    tr.t('If you did not ask for this, tell {provider} at once and change your password.', { provider }),
  ].join('\n');
}
