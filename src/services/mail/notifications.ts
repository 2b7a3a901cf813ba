import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { type Actor, asActor, authorize, type Role } from '../access/index.js';
import { isMessage, msg, type Msg } from '../platform/i18n.js';

/**
 * Which notification mail a person gets, and the one-click unsubscribe every such mail carries.
 * A kind is on unless the person turned it off (a row with enabled = false).
 *
 * Unsubscribe links are signed, not stored: an HMAC (key derived from the session secret) over the
 * user id and the kind. They need no row per mail, never expire, and can do one thing only: turn
 * that kind of mail off for that person. Changing SESSION_SECRET retires the links already sent.
 */

/** Append-only: a kind's position is part of every unsubscribe link already sent. */
export const NOTIFICATION_KINDS = [
  'renewal_reminders',
  'ticket_updates',
  'weekly_digest',
  'monthly_statement',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const NOTIFICATION_TEXT: Record<
  NotificationKind,
  /** `phrase`: the label inside a sentence ("Stop renewal reminders?") */
  { label: string; phrase: string; description: string; roles: readonly Role[] }
> = {
  renewal_reminders: {
    label: msg('Renewal reminders'),
    phrase: msg('renewal reminders'),
    description: msg(
      'Once a week during the 4 weeks before yearly and quarterly subscriptions you are responsible for renew.',
    ),
    roles: ['company_admin', 'group_admin', 'group_supervisor'],
  },
  ticket_updates: {
    label: msg('Ticket updates'),
    phrase: msg('ticket updates'),
    description: msg('When a ticket you opened or follow gets a reply or changes status.'),
    roles: ['tenant_admin', 'support_agent', 'company_admin', 'group_admin', 'group_supervisor'],
  },
  weekly_digest: {
    label: msg('Weekly fleet digest'),
    phrase: msg('weekly fleet digest'),

    description: msg(
      'Each Monday: the assets you look after that renew within 4 weeks (attached as CSV), the requests pending and the tickets waiting for you.',
    ),
    roles: ['company_admin', 'group_admin'],
  },
  // company admins are their customer's billing contacts (as for the over-limit mail)
  monthly_statement: {
    label: msg('Monthly statement'),
    phrase: msg('monthly statement'),

    description: msg(
      "On the first of each month, as your customer's billing contact: the last month's usage per product, its charges and the balance (attached as CSV).",
    ),
    roles: ['company_admin'],
  },
};

/** Where links in mail point, and the secret unsubscribe links are signed with. */
export type MailLinks = { baseUrl: string; secret: string };

// ---- signed unsubscribe links ----

const keyOf = (secret: string) => createHmac('sha256', secret).update('portico:unsubscribe:v1').digest();
const macOf = (secret: string, payload: Buffer) =>
  createHmac('sha256', keyOf(secret)).update(payload).digest().subarray(0, 16);

/** 45 characters: the user id and kind (17 bytes) and a 128-bit MAC, base64url. */
export function unsubscribeToken(secret: string, userId: string, kind: NotificationKind): string {
  const payload = Buffer.concat([
    Buffer.from(userId.replaceAll('-', ''), 'hex'),
    Buffer.from([NOTIFICATION_KINDS.indexOf(kind)]),
  ]);
  return payload.toString('base64url') + macOf(secret, payload).toString('base64url');
}

export function readUnsubscribeToken(secret: string, token: string): { userId: string; kind: NotificationKind } | null {
  if (!/^[A-Za-z0-9_-]{45}$/.test(token)) return null;
  const payload = Buffer.from(token.slice(0, 23), 'base64url');
  const mac = Buffer.from(token.slice(23), 'base64url');
  if (payload.length !== 17 || mac.length !== 16 || !timingSafeEqual(mac, macOf(secret, payload))) return null;
  // one spelling per link: base64url's last character carries unused bits, and a link altered only in
  // those stays refused
  if (payload.toString('base64url') + mac.toString('base64url') !== token) return null;
  const kind = NOTIFICATION_KINDS[payload[16]!];
  if (!kind) return null;
  const hex = payload.subarray(0, 16).toString('hex');
  return {
    userId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    kind,
  };
}

export function unsubscribeUrl(links: MailLinks, userId: string, kind: NotificationKind): string {
  return `${links.baseUrl}/unsubscribe/${unsubscribeToken(links.secret, userId, kind)}`;
}

/** RFC 2369 and RFC 8058 headers: mail programs show an "Unsubscribe" button that POSTs the link. */
export function unsubscribeHeaders(links: MailLinks, userId: string, kind: NotificationKind): Record<string, string> {
  return {
    'List-Unsubscribe': `<${unsubscribeUrl(links, userId, kind)}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

// ---- the rule and the change ----

async function isEnabled(trx: Db | Trx, userId: string, kind: NotificationKind): Promise<boolean> {
  const row = await trx('notification_settings')
    .where({ user_id: userId, kind })
    .first<{ enabled: boolean } | undefined>('enabled');
  return row?.enabled ?? true;
}

/**
 * Why the person may not turn `kind` off, or null. Renewal reminders: a company admin is the last
 * one of a customer who still receives them. The customers are locked first, so two admins turning
 * theirs off at the same moment cannot both pass.
 */
async function refusalToTurnOff(trx: Db | Trx, userId: string, kind: NotificationKind): Promise<Msg | null> {
  if (kind !== 'renewal_reminders') return null;
  const active = await trx('users').where({ id: userId, status: 'active' }).first('id');
  if (!active) return null;
  const { rows } = await trx.raw<{ rows: { tenant_id: string; id: string; title: string }[] }>(
    `select c.tenant_id, c.id, c.title from memberships m
       join customers c on c.tenant_id = m.tenant_id and c.id = m.customer_id
      where m.user_id = ? and m.role = 'company_admin' and m.disabled_at is null
      order by c.tenant_id, c.id
      for no key update of c`,
    [userId],
  );
  for (const customer of rows) {
    const other = await trx.raw<{ rows: unknown[] }>(
      `select 1 from memberships m join users u on u.id = m.user_id
        where m.tenant_id = ? and m.customer_id = ? and m.role = 'company_admin' and m.user_id <> ?
          and u.status = 'active'
          and m.disabled_at is null
          and not exists (select 1 from notification_settings s
                           where s.user_id = u.id and s.kind = 'renewal_reminders' and not s.enabled)
        limit 1`,
      [customer.tenant_id, customer.id, userId],
    );
    if (!other.rows.length) {
      return msg(
        'You are the only company admin of {customer} who receives renewal reminders, so they stay on: someone must hear about renewals. Once another company admin of {customer} receives them, you can turn yours off.',

        { customer: customer.title },
      );
    }
  }
  return null;
}

async function writeSetting(trx: Db | Trx, userId: string, kind: NotificationKind, enabled: boolean): Promise<void> {
  await trx('notification_settings')
    .insert({ user_id: userId, kind, enabled, updated_at: trx.fn.now() })
    .onConflict(['user_id', 'kind'])
    .merge(['enabled', 'updated_at']);
}

export type NotificationSwitch = {
  kind: NotificationKind;
  label: string;
  phrase: string;
  description: string;
  enabled: boolean;
};

const kindsFor = (role: Role) => NOTIFICATION_KINDS.filter((k) => NOTIFICATION_TEXT[k].roles.includes(role));

/** The switches the settings page shows: the kinds of mail this role can get. */
export async function notificationSwitches(db: Db, actor: Actor): Promise<NotificationSwitch[]> {
  authorize(actor, 'settings.view');
  const kinds = kindsFor(actor.role);
  const off = await asActor(db, actor, (trx) =>
    trx('notification_settings').where({ user_id: actor.userId, enabled: false }).pluck<NotificationKind[]>('kind'),
  );
  return kinds.map((kind) => ({ kind, ...NOTIFICATION_TEXT[kind], enabled: !off.includes(kind) }));
}

/**
 * Saves the switches from the settings form; a switch the rule refuses is a ValidationError on
 * that switch and nothing is saved. Returns the kinds that changed.
 */
export async function changeNotificationSwitches(
  db: Db,
  actor: Actor,
  wanted: Record<string, boolean>,
): Promise<NotificationKind[]> {
  authorize(actor, 'settings.view');
  return asActor(db, actor, async (trx) => {
    const changed: NotificationKind[] = [];
    const errors: Record<string, Msg> = {};
    for (const kind of kindsFor(actor.role)) {
      const enabled = !!wanted[kind];
      if ((await isEnabled(trx, actor.userId, kind)) === enabled) continue;
      const refusal = enabled ? null : await refusalToTurnOff(trx, actor.userId, kind);
      if (refusal) errors[kind] = refusal;
      else changed.push(kind);
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);
    for (const kind of changed) await writeSetting(trx, actor.userId, kind, !!wanted[kind]);
    if (changed.length) {
      await audit(trx, actor, {
        entityType: 'user',
        entityId: actor.userId,
        action: 'user.notifications_changed',
        before: Object.fromEntries(changed.map((k) => [k, !wanted[k]])),
        after: Object.fromEntries(changed.map((k) => [k, !!wanted[k]])),
      });
    }
    return changed;
  });
}

export type UnsubscribeView = {
  kind: NotificationKind;
  label: string;
  phrase: string;
  email: string;
  enabled: boolean;
};

async function userOf(trx: Db | Trx, userId: string): Promise<{ id: string; email: string }> {
  const user = await trx('users').where({ id: userId }).first<{ id: string; email: string } | undefined>('id', 'email');
  if (!user)
    throw new NotFoundError('This unsubscribe link is not valid. You can choose which mail you get in your settings.');
  return user;
}

function parseToken(secret: string, token: string) {
  const parsed = readUnsubscribeToken(secret, token);
  if (!parsed)
    throw new NotFoundError('This unsubscribe link is not valid. You can choose which mail you get in your settings.');
  return parsed;
}

const pick = ({ label, phrase }: { label: string; phrase: string }) => ({ label, phrase });

function refusalError(refusal: Msg): ConflictError {
  return isMessage(refusal) ? new ConflictError(refusal.id).withValues(refusal.values) : new ConflictError(refusal);
}

/** What an unsubscribe link would turn off, for its confirmation page (a GET changes nothing). */
export async function unsubscribePreview(db: Db, secret: string, token: string): Promise<UnsubscribeView> {
  const { userId, kind } = parseToken(secret, token);
  const user = await userOf(db, userId);
  const { label, phrase } = NOTIFICATION_TEXT[kind];
  return { kind, label, phrase, email: user.email, enabled: await isEnabled(db, userId, kind) };
}

/**
 * One-click unsubscribe, authorized by the signed link alone (no session: it is also what mail
 * programs POST to). The same rule as the settings page; a refusal is a ConflictError saying why.
 */
export async function unsubscribe(db: Db, secret: string, token: string): Promise<UnsubscribeView> {
  const { userId, kind } = parseToken(secret, token);
  return db.transaction(async (trx) => {
    const user = await userOf(trx, userId);
    const view = { kind, ...pick(NOTIFICATION_TEXT[kind]), email: user.email, enabled: false };
    if (!(await isEnabled(trx, userId, kind))) return view;
    const refusal = await refusalToTurnOff(trx, userId, kind);
    if (refusal) throw refusalError(refusal);
    await writeSetting(trx, userId, kind, false);
    // people are not tenant-owned: the change is logged in each tenant the person belongs to
    const tenants = await trx('memberships').where({ user_id: userId }).distinct().pluck<string[]>('tenant_id');
    for (const tenantId of tenants) {
      await audit(
        trx,
        { system: 'Unsubscribe link in a mail', tenantId },
        {
          entityType: 'user',
          entityId: userId,
          action: 'user.notifications_changed',
          before: { [kind]: true },
          after: { [kind]: false },
        },
      );
    }
    return view;
  });
}
