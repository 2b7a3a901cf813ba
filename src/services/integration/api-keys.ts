import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/index.js';
import { NotFoundError, TooManyRequestsError, UnauthorizedError, ValidationError } from '../../errors.js';
import { assertNotLocked, audit, hashToken, LIMITS, msg, type Msg, recordFailure } from '../platform/index.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { API_SCOPES, type ApiScope, isApiScope } from './scope-rules.js';

/**
 * API keys: a tenant admin creates one per integrating system, sees it once, and revokes it when
 * that system goes. 256 random bits; only the SHA-256 hash is kept, so a stolen database holds no
 * usable key. `pk_` makes a leaked key easy to recognise (secret scanners, logs).
 */

export type ApiKeySummary = {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiScope[];
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

export type ApiClient = { tenantId: string; keyId: string; name: string; scopes: ApiScope[] };

type Row = {
  id: string;
  name: string;
  key_prefix: string;
  scopes: ApiScope[];
  created_by_label: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
};
const COLUMNS = ['id', 'name', 'key_prefix', 'scopes', 'created_by_label', 'created_at', 'last_used_at', 'revoked_at'];
const summary = (r: Row): ApiKeySummary => ({
  id: r.id,
  name: r.name,
  prefix: r.key_prefix,
  // in the order the form offers them
  scopes: API_SCOPES.filter((s) => r.scopes.includes(s)),
  createdBy: r.created_by_label,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

const KEY_PATTERN = /^pk_[A-Za-z0-9_-]{43}$/;

/** The tenant's keys, working ones first, newest first. */
export async function listApiKeys(db: Db, actor: Actor): Promise<ApiKeySummary[]> {
  authorize(actor, 'api_key.manage');
  const rows: Row[] = await asActor(db, actor, (trx) =>
    trx('api_keys')
      .where({ tenant_id: actor.tenantId })
      .orderByRaw('revoked_at is not null, created_at desc')
      .select(COLUMNS),
  );
  return rows.map(summary);
}

export async function findApiKey(db: Db, actor: Actor, id: string): Promise<ApiKeySummary> {
  authorize(actor, 'api_key.manage');
  const row: Row | undefined = await asActor(db, actor, (trx) =>
    trx('api_keys').where({ tenant_id: actor.tenantId, id }).first(COLUMNS),
  );
  if (!row) throw new NotFoundError();
  return summary(row);
}

/**
 * Creates a key that may do what `scopes` names (at least one) and returns it with its secret,
 * which exists nowhere else from now on.
 */
export async function createApiKey(
  db: Db,
  actor: Actor,
  input: { name: string; scopes: string[] },
  now: Date,
): Promise<{ key: ApiKeySummary; secret: string }> {
  authorize(actor, 'api_key.manage');
  const name = input.name.trim();
  const errors: Record<string, Msg> = {};
  if (!name) errors.name = msg('Give the key a name that says which system uses it.');
  else if (name.length > 100) errors.name = msg('Use at most 100 characters.');
  const scopes = API_SCOPES.filter((s) => input.scopes.includes(s));
  if (!scopes.length || !input.scopes.every(isApiScope))
    errors.scopes = msg('Choose at least one thing the key may do.');
  if (Object.keys(errors).length) throw new ValidationError(errors);
  const secret = `pk_${randomBytes(32).toString('base64url')}`;
  const row: Row = await asActor(db, actor, async (trx) => {
    const [inserted] = await trx('api_keys')
      .insert({
        tenant_id: actor.tenantId,
        name,
        key_hash: hashToken(secret),
        key_prefix: secret.slice(0, 10),
        scopes,
        created_by: actor.userId,
        created_by_label: `${actor.name} <${actor.email}>`,
        created_at: now,
      })
      .returning(COLUMNS);
    await audit(trx, actor, {
      entityType: 'api_key',
      entityId: (inserted as Row).id,
      action: 'api_key.created',
      after: { name, prefix: (inserted as Row).key_prefix, scopes },
    });
    return inserted as Row;
  });
  return { key: summary(row), secret };
}

/** Revokes a key at once: the next request made with it gets 401. Revoking twice changes nothing. */
export async function revokeApiKey(db: Db, actor: Actor, id: string, now: Date): Promise<ApiKeySummary> {
  authorize(actor, 'api_key.manage');
  return asActor(db, actor, async (trx) => {
    const row: Row | undefined = await trx('api_keys')
      .where({ tenant_id: actor.tenantId, id })
      .forUpdate()
      .first(COLUMNS);
    if (!row) throw new NotFoundError();
    if (row.revoked_at) return summary(row);
    const [updated] = await trx('api_keys')
      .where({ tenant_id: actor.tenantId, id })
      .update({ revoked_at: now })
      .returning(COLUMNS);
    await audit(trx, actor, {
      entityType: 'api_key',
      entityId: id,
      action: 'api_key.revoked',
      before: { name: row.name, prefix: row.key_prefix },
      after: { revoked_at: now },
    });
    return summary(updated as Row);
  });
}

/**
 * The client a raw key belongs to, or null for a malformed, unknown or revoked key, or a disabled
 * tenant's. The lookup is by hash, so comparing it leaks nothing of the secret. Last use is recorded
 * at most once a minute, so a busy integration does not rewrite the row on every request.
 */
export async function authenticateApiKey(db: Db, raw: string, now: Date): Promise<ApiClient | null> {
  if (!KEY_PATTERN.test(raw)) return null;
  // a disabled tenant's keys stop with its people's sign-ins (and work again when it is enabled)
  const row = await db('api_keys as k')
    .join('tenants as t', 't.id', 'k.tenant_id')
    .where({ 'k.key_hash': hashToken(raw) })
    .whereNull('k.revoked_at')
    .whereNull('t.disabled_at')
    .first<{ tenant_id: string; id: string; name: string; scopes: ApiScope[]; last_used_at: Date | null } | undefined>(
      'k.tenant_id',
      'k.id',
      'k.name',
      'k.scopes',
      'k.last_used_at',
    );
  if (!row) return null;
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() >= 60_000) {
    await db('api_keys').where({ tenant_id: row.tenant_id, id: row.id }).update({ last_used_at: now });
  }
  return { tenantId: row.tenant_id, keyId: row.id, name: row.name, scopes: row.scopes };
}

const addressKey = (address: string) => `api-address:${address}`;
const BLOCKED = 'requests with wrong API keys from this address';

/**
 * The client of a request's key, or why not: 401 for no key or a wrong or revoked one. Wrong keys
 * count against the sender's address (30 in 15 minutes block it for 15 minutes, like wrong token
 * links); a blocked address gets 429 before any key is looked up, a right key included, so the
 * block also stops it learning which of its guesses was right.
 */
export async function authenticateApiRequest(
  db: Db,
  input: { bearer: string | null; address: string },
  now: Date,
): Promise<ApiClient> {
  await assertNotLocked(db, [addressKey(input.address)], now, BLOCKED);
  const client = input.bearer ? await authenticateApiKey(db, input.bearer, now) : null;
  if (client) return client;
  if (await recordFailure(db, addressKey(input.address), LIMITS.tokenAddress, now))
    throw new TooManyRequestsError(`Too many ${BLOCKED}. Try again in 15 minutes.`, LIMITS.tokenAddress.lockMs / 1000);
  throw new UnauthorizedError(
    input.bearer
      ? 'This API key is not valid: it is wrong or has been revoked.'
      : 'Send an API key as "Authorization: Bearer <key>".',
  );
}
