import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { audit, issueToken } from '../platform/index.js';
import { authorizeOperation, type CommandLine, inTenant, type OperatorActor } from '../access/index.js';
import { enqueueMail } from '../mail/index.js';
import { ACTIVATION_DAYS, DUPLICATE_EMAIL, insertPendingLogin, newLoginProblems } from '../people/index.js';
import { isLocale, msg, type Msg, recipientLocale, translator, type Translator } from '../platform/i18n.js';

/**
 * The deployment's tenants, as its operator (or the command line) sees and changes them: the list,
 * a new tenant with its first tenant admin, and disabling (its people can no longer sign in, and
 * nothing is deleted) or enabling one again. The tenants table is read as the deployment, which
 * row-level security does not bind; whatever is written inside a tenant is written in its own
 * transaction, bound to it.
 */

export type TenantStatus = 'active' | 'disabled';
export const TENANT_STATUSES: readonly TenantStatus[] = ['active', 'disabled'];

export type TenantAdmin = { id: string; name: string; email: string; status: 'pending' | 'active' | 'disabled' };
export type TenantSummary = {
  id: string;
  name: string;
  status: TenantStatus;
  createdAt: Date;
  disabledAt: Date | null;
  /** logins with a role in the tenant */
  people: number;
  admins: TenantAdmin[];
};

type Operating = OperatorActor | CommandLine;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Who did it, as the tenant's audit log names them. */
function operatorLabel(by: Operating): string {
  return 'commandLine' in by ? 'Portico command line' : `${by.name} <${by.email}> (deployment operator)`;
}

/** Every tenant, by name, with how many people it has and who its admins are. */
export async function listTenants(db: Db, by: Operating): Promise<TenantSummary[]> {
  authorizeOperation(by, 'operator.tenants');
  const rows: {
    id: string;
    name: string;
    created_at: Date;
    disabled_at: Date | null;
    people: number;
    admins: TenantAdmin[] | null;
  }[] = await db('tenants as t')
    .orderByRaw('lower(t.name), t.created_at')
    .select(
      't.id',
      't.name',
      't.created_at',
      't.disabled_at',
      db.raw('(select count(distinct m.user_id)::int from memberships m where m.tenant_id = t.id) as people'),
      db.raw(
        `(select json_agg(json_build_object('id', u.id, 'name', u.name, 'email', u.email, 'status', u.status)
                          order by u.email)
            from memberships m join users u on u.id = m.user_id
           where m.tenant_id = t.id and m.role = 'tenant_admin') as admins`,
      ),
    );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    status: r.disabled_at ? 'disabled' : 'active',
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
    people: r.people,
    admins: r.admins ?? [],
  }));
}

export type NewTenant = { name: string; adminEmail: string; adminName?: string };
export type CreatedTenant = {
  tenant: { id: string; name: string };
  admin: { id: string; email: string; name: string };
  /** the raw activation token, to show or print once; only its hash is kept */
  token: string;
  expiresAt: Date;
  /** whether the link was queued as mail to the admin */
  mailed: boolean;
};

/** The tenant name's problem, if any. */
function tenantNameProblem(name: string): Msg | null {
  if (!name) return msg("Enter the tenant's name.");
  if (name.length > 200) return msg('Use at most {max} characters.', { max: 200 });
  return null;
}

const isUniqueEmailViolation = (err: unknown) =>
  (err as { code?: string }).code === '23505' && (err as { constraint?: string }).constraint === 'users_email_key';

/**
 * A new tenant and its first tenant admin: a pending login with a single-use activation link. The
 * link is returned to show or print; with `mail`, it is also queued to the admin through the new
 * tenant's outbox. Messages per field: name, adminEmail, adminName.
 */
export async function createTenant(
  db: Db,
  by: Operating,
  input: NewTenant,
  env: { now: Date; baseUrl: string; mail: boolean },
): Promise<CreatedTenant> {
  authorizeOperation(by, 'operator.tenants');
  const name = input.name.trim();
  const fields: Record<string, Msg> = {};
  try {
    return await db.transaction(async (trx) => {
      const nameProblem = tenantNameProblem(name);
      if (nameProblem) fields.name = nameProblem;
      else if (await trx('tenants').whereRaw('lower(name) = lower(?)', [name]).first('id'))
        fields.name = msg('A tenant with this name exists already.');
      const login = await newLoginProblems(trx, { email: input.adminEmail, name: input.adminName });
      if (login.email) fields.adminEmail = login.email;
      if (login.name) fields.adminName = login.name;
      if (Object.keys(fields).length) throw new ValidationError(fields);

      const [tenant] = await trx('tenants')
        .insert({ name, created_at: env.now })
        .returning<{ id: string; name: string }[]>(['id', 'name']);
      const admin = await insertPendingLogin(trx, { email: input.adminEmail, name: input.adminName }, env.now);
      // inside the new tenant from here: its row-level security applies to everything written for it
      return inTenant(trx, tenant!.id, async (tx) => {
        await tx('memberships').insert({ tenant_id: tenant!.id, user_id: admin.id, role: 'tenant_admin' });
        const { token, expiresAt } = await issueToken(tx, {
          userId: admin.id,
          tenantId: tenant!.id,
          purpose: 'activation',
          now: env.now,
        });
        const system = { system: operatorLabel(by), tenantId: tenant!.id };
        await audit(tx, system, {
          entityType: 'tenant',
          entityId: tenant!.id,
          action: 'tenant.created',
          after: { name },
        });
        await audit(tx, system, {
          entityType: 'user',
          entityId: admin.id,
          action: 'user.created',
          after: { email: admin.email, name: admin.name, role: 'tenant_admin' },
        });
        if (env.mail)
          await enqueueMail(
            tx,
            firstAdminMail(await languageOf(tx, admin.id), tenant!, admin, `${env.baseUrl}/activate/${token}`),
          );
        return { tenant: tenant!, admin, token, expiresAt, mailed: env.mail };
      });
    });
  } catch (err) {
    // two operators adding the same address at once: the unique index decides, the form says why
    if (isUniqueEmailViolation(err)) throw new ValidationError({ ...fields, adminEmail: DUPLICATE_EMAIL });
    throw err;
  }
}

/** The language to write to a login in: their choice, else their browser's, else English. */
async function languageOf(trx: Trx, userId: string): Promise<Translator> {
  const row = await trx('users as u')
    .where('u.id', userId)
    .first<{ locale: string } | undefined>(trx.raw(`${recipientLocale('u')} as locale`));
  return translator(isLocale(row?.locale) ? row.locale : 'en');
}

/** The mail that carries a new tenant's first admin's activation link, in their language. */
function firstAdminMail(
  tr: Translator,
  tenant: { id: string; name: string },
  admin: { id: string; name: string; email: string },
  link: string,
) {
  return {
    tenantId: tenant.id,
    kind: 'activation',
    to: admin.email,
    userId: admin.id,
    subject: tr.t('Activate your Portico account'),
    text: [
      tr.t('Hello {name},', { name: admin.name }),
      '',
      tr.t('A Portico account was created for you as the administrator of {tenant}.', { tenant: tenant.name }),
      tr.t('To choose your password and activate the account, open this link:'),
      '',
      link,
      '',
      tr.t('The link works once and expires in {days} days.', { days: ACTIVATION_DAYS }),
      '',
      tr.t('If you did not expect this message, you can ignore it.'),
    ].join('\n'),
  };
}

/**
 * Disables a tenant (its people can no longer sign in, and their sessions stop working at their next
 * request; the renewal and reminder jobs pass it by until it is enabled, then catch up) or enables it
 * again. Nothing of the tenant is deleted. Both are in the tenant's audit log.
 */
export async function setTenantStatus(
  db: Db,
  by: Operating,
  tenantId: string,
  status: string,
  now: Date,
): Promise<{ name: string; status: TenantStatus }> {
  authorizeOperation(by, 'operator.tenants');
  if (!UUID.test(tenantId)) throw new NotFoundError();
  if (!(TENANT_STATUSES as readonly string[]).includes(status))
    throw new ValidationError({ status: msg('Choose active or disabled.') });
  return db.transaction(async (trx) => {
    const before = await trx('tenants')
      .where({ id: tenantId })
      .forUpdate()
      .first<{ name: string; disabled_at: Date | null } | undefined>('name', 'disabled_at');
    if (!before) throw new NotFoundError();
    const was: TenantStatus = before.disabled_at ? 'disabled' : 'active';
    if (was === status) return { name: before.name, status: was };
    await trx('tenants')
      .where({ id: tenantId })
      .update({ disabled_at: status === 'disabled' ? now : null });
    await inTenant(trx, tenantId, (tx) =>
      audit(
        tx,
        { system: operatorLabel(by), tenantId },
        {
          entityType: 'tenant',
          entityId: tenantId,
          action: status === 'disabled' ? 'tenant.disabled' : 'tenant.enabled',
          before: { status: was },
          after: { status },
        },
      ),
    );
    return { name: before.name, status: status as TenantStatus };
  });
}

/** How a new tenant's first admin's activation mail fared, once its delivery was tried (for the command line). */
export async function firstAdminMailState(
  db: Db,
  by: Operating,
  created: Pick<CreatedTenant, 'tenant' | 'admin'>,
): Promise<{ status: 'queued' | 'sent' | 'kept' | 'dead'; lastError: string | null } | null> {
  authorizeOperation(by, 'operator.tenants');
  const row = await db('outbox')
    .where({ tenant_id: created.tenant.id, user_id: created.admin.id, kind: 'activation' })
    .orderBy('id', 'desc')
    .first<{ status: 'queued' | 'sent' | 'kept' | 'dead'; last_error: string | null } | undefined>(
      'status',
      'last_error',
    );
  return row ? { status: row.status, lastError: row.last_error } : null;
}

/**
 * A new single-use activation link for a tenant admin who has not activated their account yet (the
 * first link expired, or never arrived); the earlier link stops working at once. Shown once, and
 * mailed with `mail`. An admin who is active already has no link to get: 409.
 */
export async function reissueTenantAdminActivation(
  db: Db,
  by: Operating,
  tenantId: string,
  userId: string,
  env: { now: Date; baseUrl: string; mail: boolean },
): Promise<Omit<CreatedTenant, 'mailed'> & { mailed: boolean }> {
  authorizeOperation(by, 'operator.tenants');
  if (!UUID.test(tenantId) || !UUID.test(userId)) throw new NotFoundError();
  const tenant = await db('tenants')
    .where({ id: tenantId })
    .first<{ id: string; name: string } | undefined>('id', 'name');
  if (!tenant) throw new NotFoundError();
  return inTenant(db, tenantId, async (tx) => {
    const admin = await tx('memberships as m')
      .join('users as u', 'u.id', 'm.user_id')
      .where({ 'm.tenant_id': tenantId, 'm.user_id': userId, 'm.role': 'tenant_admin' })
      .first<{ id: string; name: string; email: string; status: string } | undefined>(
        'u.id',
        'u.name',
        'u.email',
        'u.status',
      );
    if (!admin) throw new NotFoundError();
    if (admin.status !== 'pending')
      throw new ConflictError('{name} has activated their account already: there is no link to send.').withValues({
        name: admin.name,
      });
    const { token, expiresAt } = await issueToken(tx, { userId, tenantId, purpose: 'activation', now: env.now });
    await audit(
      tx,
      { system: operatorLabel(by), tenantId },
      {
        entityType: 'user',
        entityId: userId,
        action: env.mail ? 'user.activation_sent' : 'user.activation_link_shown',
      },
    );
    const user = { id: admin.id, name: admin.name, email: admin.email };
    if (env.mail)
      await enqueueMail(
        tx,
        firstAdminMail(await languageOf(tx, user.id), tenant, user, `${env.baseUrl}/activate/${token}`),
      );
    return { tenant, admin: user, token, expiresAt, mailed: env.mail };
  });
}
