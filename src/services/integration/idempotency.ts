import type { Db, Trx } from '../../db/index.js';
import { inTenant } from '../../db/tenant.js';
import { ConflictError } from '../../errors.js';

export type ApiAnswer = { status: number; body: unknown };

/** Where an Idempotency-Key counts: the API key that sent it, and the method and path it was sent to. */
export type IdempotencyScope = { tenantId: string; apiKeyId: string; method: string; path: string };

/**
 * Runs a write at most once per Idempotency-Key within its scope: the work and the record of its
 * answer commit in one transaction (bound to the tenant by row-level security), so a retry after a
 * lost answer gets that answer again and writes nothing. Requests with the same key wait for each
 * other (an advisory lock), so two at once cannot both write. Work that throws stores nothing: a
 * batch refused with 422 can be corrected and sent again under the same key. Another integration,
 * or another endpoint, using the same key is a request of its own.
 */
export async function runIdempotent(
  db: Db,
  input: IdempotencyScope & { key: string; requestHash: Buffer },
  work: (trx: Trx) => Promise<ApiAnswer>,
): Promise<ApiAnswer & { replayed: boolean }> {
  const where = {
    tenant_id: input.tenantId,
    api_key_id: input.apiKeyId,
    method: input.method,
    path: input.path,
    key: input.key,
  };
  return inTenant(db, input.tenantId, async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [
      `idempotency:${input.apiKeyId}:${input.method}:${input.path}:${input.key}`,
    ]);
    const earlier = await trx('idempotency_keys')
      .where(where)
      .first<{ request_hash: Buffer; status: number; body: unknown } | undefined>('request_hash', 'status', 'body');
    if (earlier) {
      if (!earlier.request_hash.equals(input.requestHash))
        throw new ConflictError(
          'This Idempotency-Key was used for a different request. Use a new key for a new request.',
        );
      return { status: earlier.status, body: earlier.body, replayed: true };
    }
    const answer = await work(trx);
    await trx('idempotency_keys').insert({
      ...where,
      request_hash: input.requestHash,
      status: answer.status,
      body: JSON.stringify(answer.body),
    });
    return { ...answer, replayed: false };
  });
}

/** Answers are kept for a day: long enough for any retry, short enough to keep the table small. */
export const IDEMPOTENCY_KEEP_MS = 24 * 60 * 60 * 1000;

export async function pruneIdempotencyKeys(db: Db, now: Date): Promise<number> {
  return db('idempotency_keys')
    .where('created_at', '<', new Date(now.getTime() - IDEMPOTENCY_KEEP_MS))
    .del();
}
