import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it, inject } from 'vitest';
import { createDb, ensureDatabase, migrationSource } from '../../src/db/index.js';
import { GENESIS_HASH, verifyAuditChains } from '../../src/services/platform/index.js';
import { withDatabase } from '../support/global-setup.js';

/**
 * The migration that chains the audit log (chain_audit_log) on a database that already has audit rows:
 * a new, empty database migrated step by step up to the migration before it, rows written as the
 * application wrote them then, and then the rest of the migrations.
 */
const CHAIN = '20261206170100_chain_audit_log.ts';
const adminUrl = inject('adminUrl');
const name = `test_${randomBytes(6).toString('hex')}`;
await ensureDatabase(adminUrl, name);
const db = createDb(withDatabase(adminUrl, name), { poolMax: 2 });
afterAll(async () => {
  await db.destroy();
  const admin = createDb(adminUrl, { poolMax: 1 });
  await admin.raw(`drop database if exists ${name} with (force)`);
  await admin.destroy();
});

const pending = async (): Promise<string[]> => {
  const [, rest] = (await db.migrate.list({ migrationSource })) as [unknown, string[]];
  return rest;
};

describe('chaining the audit rows that existed before the migration', () => {
  it('chains each tenant in id order, so that the verify job finds every chain whole', async () => {
    while ((await pending())[0] !== CHAIN) await db.migrate.up({ migrationSource });

    const [a, b] = (await db('tenants')
      .insert([{ name: 'Before Telematics' }, { name: 'Earlier Freight' }])
      .returning(['id'])) as { id: string }[];
    const row = (tenantId: string, n: number) => ({
      tenant_id: tenantId,
      at: new Date(Date.UTC(2026, 10, n, 9)),
      actor_label: 'Ada Admin',
      entity_type: 'customer',
      entity_id: `c-${n}`,
      action: 'customer.updated',
      before: JSON.stringify({ title: `Old ${n}` }),
      after: JSON.stringify({ title: `New ${n}`, note: 'ü' }),
    });
    // interleaved between the tenants, as they happened
    for (const n of [1, 2, 3, 4, 5]) await db('audit_log').insert([row(a!.id, n), row(b!.id, n)]);
    await db('audit_log').insert(row(a!.id, 6));
    expect(await db('audit_log').count<{ n: number }[]>({ n: '*' })).toEqual([{ n: 11 }]);

    await db.migrate.latest({ migrationSource });
    expect(await pending()).toEqual([]);

    for (const [tenant, count] of [
      [a!.id, 6],
      [b!.id, 5],
    ] as const) {
      const rows: { id: string; chain_seq: string; prev_hash: string; hash: string }[] = await db('audit_log')
        .where({ tenant_id: tenant })
        .orderBy('id')
        .select('id', 'chain_seq', 'prev_hash', 'hash');
      expect(rows.map((r) => Number(r.chain_seq))).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(rows[0]!.prev_hash).toBe(GENESIS_HASH);
      rows.slice(1).forEach((r, i) => expect(r.prev_hash).toBe(rows[i]!.hash));
      expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.hash))).toBe(true);
    }
    expect(await verifyAuditChains(db)).toEqual({ chains: 2, entries: 11, broken: [] });

    // and a change written after the migration goes on from the newest of its tenant's migrated rows
    await db('audit_log').insert(row(b!.id, 7));
    const last = await db('audit_log')
      .where({ tenant_id: b!.id })
      .orderBy('id', 'desc')
      .limit(2)
      .select('chain_seq', 'prev_hash', 'hash');
    expect(Number(last[0].chain_seq)).toBe(6);
    expect(last[0].prev_hash).toBe(last[1].hash);
    expect((await verifyAuditChains(db)).broken).toEqual([]);
  });
});
