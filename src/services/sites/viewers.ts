import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import {
  assertNotLocked,
  audit,
  findUsableToken,
  hashToken,
  issueToken,
  LIMITS,
  recordFailure,
  revokeTokens,
} from '../platform/index.js';
import { type Actor, asActor, authorize, inTenant, isSiteViewer, type Role } from '../access/index.js';
import { endLinkSessionsOfUser, loadActor } from '../people/index.js';
import { isUuid } from '../customers/rules.js';
import { loginLinkExpiry } from './rules.js';
import { msg } from '../platform/index.js';

/**
 * Staff: which sites a site viewer reaches (only sites of their own customer), and their login link.
 * The link is a deliberate exception to short-lived single-use tokens: reusable for 6 months, but it
 * opens a session that reaches only the site map (Actor.viaLink), is shown to staff with its last use,
 * dies at once on refresh or disable, and failed attempts are rate limited per address.
 */

type Viewer = { id: string; name: string; email: string; status: string; membershipId: string; customerId: string };

async function findViewer(trx: Trx, actor: Actor, userId: string, customerId: string, lock = false): Promise<Viewer> {
  if (!isUuid(userId) || !isUuid(customerId)) throw new NotFoundError();
  const q = trx('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .where({ 'm.tenant_id': actor.tenantId, 'm.customer_id': customerId, 'u.id': userId })
    .orderByRaw("m.role = 'site_viewer' desc, m.created_at")
    .first<(Viewer & { role: Role }) | undefined>(
      'u.id',
      'u.name',
      'u.email',
      'u.status',
      'm.id as membershipId',
      'm.customer_id as customerId',
      'm.role',
    );
  if (lock) q.forUpdate('u');
  const user = await q;
  if (!user) throw new NotFoundError();
  if (!isSiteViewer(user))
    throw new ConflictError("Sites and login links are for site viewers. Change the user's role to Site viewer first.");
  return user;
}

export type LoginLinkState =
  | { state: 'none' }
  | { state: 'active'; enabledAt: Date; expiresAt: Date; lastUsedAt: Date | null }
  | { state: 'expired'; enabledAt: Date; expiresAt: Date; lastUsedAt: Date | null };

async function linkStateOf(trx: Trx, userId: string, now: Date): Promise<LoginLinkState> {
  const t = await trx('user_tokens')
    .where({ user_id: userId, purpose: 'login_link' })
    // the live link if there is one (several may share a creation time), else the latest
    .orderByRaw('(revoked_at is null) desc, created_at desc')
    .first<{ created_at: Date; expires_at: Date; revoked_at: Date | null; last_used_at: Date | null } | undefined>(
      'created_at',
      'expires_at',
      'revoked_at',
      'last_used_at',
    );
  if (!t || (t.revoked_at && t.revoked_at < t.expires_at)) return { state: 'none' };
  const base = { enabledAt: t.created_at, expiresAt: t.expires_at, lastUsedAt: t.last_used_at };
  return t.expires_at <= now || t.revoked_at ? { state: 'expired', ...base } : { state: 'active', ...base };
}

export type SiteViewerPanel = { sites: { id: string; name: string; chosen: boolean }[]; link: LoginLinkState };

/** What the staff user page shows for a site viewer: the customer's sites (ticked when chosen) and the link's state. */
export async function siteViewerPanel(
  db: Db,
  actor: Actor,
  userId: string,
  customerId: string,
  now: Date,
): Promise<SiteViewerPanel> {
  authorize(actor, 'site_viewer.manage');
  return asActor(db, actor, async (trx) => {
    const viewer = await findViewer(trx, actor, userId, customerId);
    const sites = (await trx('sites as s')
      .leftJoin('membership_sites as ms', function () {
        this.on('ms.tenant_id', 's.tenant_id')
          .andOn('ms.site_id', 's.id')
          .andOnVal('ms.membership_id', viewer.membershipId);
      })
      .where({ 's.tenant_id': actor.tenantId, 's.customer_id': viewer.customerId })
      .orderByRaw('lower(s.name), s.id')
      .select('s.id', 's.name', trx.raw('ms.site_id is not null as chosen'))) as {
      id: string;
      name: string;
      chosen: boolean;
    }[];
    return { sites, link: await linkStateOf(trx, viewer.id, now) };
  });
}

/** Chooses the sites a site viewer reaches; only sites of the viewer's own customer can be chosen. */
/** What the staff "add user" form offers a new site viewer: the customer's sites, by name. */
export async function sitesToGiveChoices(
  db: Db,
  actor: Actor,
  customerId: string,
): Promise<{ id: string; name: string }[]> {
  authorize(actor, 'site_viewer.manage');
  if (!isUuid(customerId)) return [];
  return asActor(
    db,
    actor,
    (trx) =>
      trx('sites')
        .where({ tenant_id: actor.tenantId, customer_id: customerId })
        .orderByRaw('lower(name), id')
        .select('id', 'name') as Promise<{ id: string; name: string }[]>,
  );
}

export async function setViewerSites(
  db: Db,
  actor: Actor,
  userId: string,
  customerId: string,
  siteIds: string[],
): Promise<{ name: string; count: number }> {
  authorize(actor, 'site_viewer.manage');
  return asActor(db, actor, async (trx) => {
    const viewer = await findViewer(trx, actor, userId, customerId, true);
    const ids = [...new Set(siteIds)];
    const valid = ids.length
      ? (
          (await trx('sites')
            .where({ tenant_id: actor.tenantId, customer_id: viewer.customerId })
            .whereIn('id', ids.filter(isUuid))
            .select('id')) as { id: string }[]
        ).map((r) => r.id)
      : [];
    if (valid.length !== ids.length)
      throw new ValidationError({ site_ids: msg("Choose only sites of this user's customer.") });
    const before = (
      (await trx('membership_sites')
        .where({ tenant_id: actor.tenantId, membership_id: viewer.membershipId })
        .select('site_id')) as { site_id: string }[]
    )
      .map((r) => r.site_id)
      .sort();
    await trx('membership_sites').where({ tenant_id: actor.tenantId, membership_id: viewer.membershipId }).del();
    if (valid.length)
      await trx('membership_sites').insert(
        valid.map((site_id) => ({ tenant_id: actor.tenantId, membership_id: viewer.membershipId, site_id })),
      );
    await audit(trx, actor, {
      entityType: 'membership',
      entityId: viewer.membershipId,
      action: 'membership.sites_changed',
      customerId: viewer.customerId,
      before: { sites: before },
      after: { sites: [...valid].sort() },
    });
    return { name: viewer.name, count: valid.length };
  });
}

/**
 * Enables the login link, or refreshes it: a new token replaces any earlier one at once. A pending
 * viewer becomes active (they sign in only by the link; without a password they have no other way).
 */
export async function enableLoginLink(
  db: Db,
  actor: Actor,
  userId: string,
  customerId: string,
  now: Date,
): Promise<{ name: string; token: string; expiresAt: Date; refreshed: boolean }> {
  authorize(actor, 'site_viewer.manage');
  return asActor(db, actor, async (trx) => {
    const viewer = await findViewer(trx, actor, userId, customerId, true);
    if (viewer.status === 'disabled')
      throw new ConflictError(`${viewer.name} is disabled. Enable the user before giving them a login link.`);
    const refreshed = (await linkStateOf(trx, viewer.id, now)).state !== 'none';
    if (viewer.status === 'pending') {
      await trx('users').where({ id: viewer.id }).update({ status: 'active', updated_at: now });
      await audit(trx, actor, {
        entityType: 'user',
        entityId: viewer.id,
        action: 'user.activated',
        customerId: viewer.customerId,
        before: { status: 'pending' },
        after: { status: 'active', by: 'login link' },
      });
    }
    const { token, expiresAt } = await issueToken(trx, {
      userId: viewer.id,
      tenantId: actor.tenantId,
      purpose: 'login_link',
      now,
      expiresAt: loginLinkExpiry(now),
    });
    // what an old link opened ends with it
    await endLinkSessionsOfUser(trx, viewer.id);
    await audit(trx, actor, {
      entityType: 'user',
      entityId: viewer.id,
      action: refreshed ? 'user.login_link_refreshed' : 'user.login_link_enabled',
      customerId: viewer.customerId,
      after: { expiresAt },
    });
    return { name: viewer.name, token, expiresAt, refreshed };
  });
}

export async function disableLoginLink(
  db: Db,
  actor: Actor,
  userId: string,
  customerId: string,
  now: Date,
): Promise<{ name: string }> {
  authorize(actor, 'site_viewer.manage');
  return asActor(db, actor, async (trx) => {
    const viewer = await findViewer(trx, actor, userId, customerId, true);
    await revokeTokens(trx, viewer.id, 'login_link', now);
    await endLinkSessionsOfUser(trx, viewer.id);
    await audit(trx, actor, {
      entityType: 'user',
      entityId: viewer.id,
      action: 'user.login_link_disabled',
      customerId: viewer.customerId,
    });
    return { name: viewer.name };
  });
}

export type OpenedLink =
  | { ok: true; userId: string; membershipId: string; linkId: string }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'expired'; expiredAt: Date; ask: string };

const addressKey = (address: string) => `login_link:address:${address}`;

/** Whom an expired link's owner should ask: the staff member who last enabled it, at the provider. */
async function whomToAsk(trx: Trx, tenantId: string, userId: string): Promise<string> {
  return inTenant(trx, tenantId, async (q) => {
    const tenant = await q('tenants').where({ id: tenantId }).first<{ name: string } | undefined>('name');
    const entry = await q('audit_log')
      .where({ tenant_id: tenantId, entity_type: 'user', entity_id: userId })
      .whereIn('action', ['user.login_link_enabled', 'user.login_link_refreshed'])
      .orderBy('id', 'desc')
      .first<{ actor_label: string } | undefined>('actor_label');
    const provider = tenant?.name ?? 'your provider';
    return entry ? `${entry.actor_label} at ${provider}` : provider;
  });
}

/**
 * Opens a login link: the membership to sign in with, or why not. Only unknown links count against
 * the address (guessing makes those); an expired link is a real person, told whom to ask.
 */
export async function openLoginLink(
  db: Db,
  now: Date,
  rawToken: string,
  opts: { address: string },
): Promise<OpenedLink> {
  await assertNotLocked(db, [addressKey(opts.address)], now, 'attempts with login links that do not work');
  const result = await db.transaction(async (trx): Promise<OpenedLink> => {
    const state = await findUsableToken(trx, rawToken, 'login_link', now);
    if (!state.ok) {
      if (state.reason !== 'expired') return { ok: false, reason: 'unknown' };
      const row = await trx('user_tokens')
        .where({ token_hash: hashToken(rawToken), purpose: 'login_link' })
        .first<{ user_id: string; tenant_id: string | null; expires_at: Date }>('user_id', 'tenant_id', 'expires_at');
      if (!row?.tenant_id) return { ok: false, reason: 'unknown' };
      return {
        ok: false,
        reason: 'expired',
        expiredAt: row.expires_at,
        ask: await whomToAsk(trx, row.tenant_id, row.user_id),
      };
    }
    const { token } = state;
    if (!token.tenant_id) return { ok: false, reason: 'unknown' };
    const membership = await inTenant(trx, token.tenant_id, (q) =>
      q('memberships')
        .where({ tenant_id: token.tenant_id, user_id: token.user_id, role: 'site_viewer' })
        .orderBy('created_at')
        .first<{ id: string } | undefined>('id'),
    );
    const actor = membership ? await loadActor(trx, token.user_id, membership.id) : null;
    if (!actor) return { ok: false, reason: 'unknown' };
    await trx('user_tokens').where({ id: token.id }).update({ last_used_at: now });
    // the session it opens is bound to this link: refreshed, disabled or expired, the session ends with it
    return { ok: true, userId: actor.userId, membershipId: actor.membershipId, linkId: token.id };
  });
  if (!result.ok && result.reason === 'unknown')
    await recordFailure(db, addressKey(opts.address), LIMITS.tokenAddress, now);
  return result;
}
