import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { Db } from '../../src/db/index.js';
import { inTenant } from '../../src/db/tenant.js';
import { runJob } from '../../src/jobs/scheduler.js';
import { sendMail } from '../../src/jobs/send-mail.js';
import { verifyAuditChainsJob } from '../../src/jobs/verify-audit-chains.js';
import { audit, GENESIS_HASH, verifyAuditChains } from '../../src/services/platform/index.js';
import { testContext } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeOperator, makeTenant } from '../support/factories.js';
import { startSmtpCatcher } from '../support/smtp.js';

const { db } = await testDatabase();
const smtp = await startSmtpCatcher();
afterAll(() => smtp.close());
const clock = fixedClock('2026-12-06T02:15:00Z');
const ctx = testContext({ db, clock, smtpUrl: smtp.url });
afterAll(() => ctx.mail?.close());

type Row = { id: number; chain_seq: number; prev_hash: string; hash: string };
const chainOf = (tenantId: string): Promise<Row[]> =>
  db('audit_log').where({ tenant_id: tenantId }).orderBy('chain_seq').select('id', 'chain_seq', 'prev_hash', 'hash');

const write = (d: Db, tenantId: string, n: number) =>
  inTenant(d, tenantId, (trx) =>
    audit(
      trx,
      { system: 'Test', tenantId },
      {
        entityType: 'customer',
        entityId: `c-${n}`,
        action: 'customer.updated',
        before: { title: `Old ${n}` },
        after: { title: `New ${n}`, amount: 12.5, tags: ['a', 'ü'] },
      },
    ),
  );

/** The tamper a superuser could do: the append-only trigger steps aside for portico.audit_rewrite. */
const tamper = (tenantId: string, id: number, after: object) =>
  db.transaction(async (trx) => {
    await trx.raw("set local portico.audit_rewrite = 'on'");
    await trx('audit_log')
      .where({ tenant_id: tenantId, id })
      .update({ after: JSON.stringify(after) });
  });

describe('the audit hash chain', () => {
  it('links each entry of a tenant to the one before, starting from 64 zeros', async () => {
    const tenant = await makeTenant(db);
    for (const n of [1, 2, 3]) await write(db, tenant.id, n);
    const rows = await chainOf(tenant.id);
    expect(rows.map((r) => r.chain_seq)).toEqual([1, 2, 3]);
    expect(rows[0]!.prev_hash).toBe(GENESIS_HASH);
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    expect(rows[2]!.prev_hash).toBe(rows[1]!.hash);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(3);
    expect(await verifyAuditChains(db, { tenantId: tenant.id })).toEqual({ chains: 1, entries: 3, broken: [] });
  });

  it('keeps one chain without a fork when two transactions write at once', async () => {
    const tenant = await makeTenant(db);
    await write(db, tenant.id, 0);
    // two transactions each hold an uncommitted audited change, then both commit
    await Promise.all(
      [1, 2, 3, 4].map((n) =>
        inTenant(db, tenant.id, async (trx) => {
          await trx.raw('select pg_sleep(0.05)');
          await write(trx as unknown as Db, tenant.id, n);
        }),
      ),
    );
    const rows = await chainOf(tenant.id);
    expect(rows.map((r) => r.chain_seq)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(rows.map((r) => r.prev_hash)).size).toBe(5);
    rows.slice(1).forEach((r, i) => expect(r.prev_hash).toBe(rows[i]!.hash));
    expect((await verifyAuditChains(db, { tenantId: tenant.id })).broken).toEqual([]);
  });

  it("hashes prev_hash followed by the entry's JSON with sorted keys and no whitespace", async () => {
    const tenant = await makeTenant(db);
    await write(db, tenant.id, 7);
    const { rows } = await db.raw(
      'select audit_entry_document(l) as doc, l.hash from audit_log l where tenant_id = ?',
      [tenant.id],
    );
    const { doc, hash } = rows[0] as { doc: Record<string, unknown>; hash: string };
    const canonical = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(canonical).join(',')}]`
        : v && typeof v === 'object'
          ? `{${Object.keys(v)
              .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
              .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
              .join(',')}}`
          : JSON.stringify(v);
    expect(doc.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(
      createHash('sha256')
        .update(GENESIS_HASH + canonical(doc))
        .digest('hex'),
    ).toBe(hash);
  });
});

describe('an append-only audit log', () => {
  it('refuses the application role an UPDATE and a DELETE of an audit row', async () => {
    const tenant = await makeTenant(db);
    await write(db, tenant.id, 1);
    const asApp = (fn: (trx: Db) => Promise<unknown>) =>
      db.transaction(async (trx) => {
        await trx.raw("select set_config('role', 'portico_app', true)");
        await trx.raw("select set_config('portico.tenant_id', ?, true)", [tenant.id]);
        return fn(trx as unknown as Db);
      });
    await expect(asApp((t) => t('audit_log').update({ action: 'x' }))).rejects.toThrow(/permission denied/);
    await expect(asApp((t) => t('audit_log').del())).rejects.toThrow(/permission denied/);
    const { rows } = await db.raw(
      "select has_table_privilege('portico_app', 'audit_log', 'UPDATE') as u," +
        " has_table_privilege('portico_app', 'audit_log', 'DELETE') as d," +
        " has_table_privilege('portico_app', 'audit_log', 'INSERT') as i",
    );
    expect(rows[0]).toEqual({ u: false, d: false, i: true });
  });

  it('refuses even the owning role a rewrite unless it says so on purpose', async () => {
    const tenant = await makeTenant(db);
    await write(db, tenant.id, 1);
    await expect(db('audit_log').where({ tenant_id: tenant.id }).update({ action: 'x' })).rejects.toThrow(
      /append-only/,
    );
    await expect(db('audit_log').where({ tenant_id: tenant.id }).del()).rejects.toThrow(/append-only/);
  });
});

describe('the nightly verification', () => {
  it('names the altered entry in its run and mails the operators', async () => {
    const operator = await makeOperator(db);
    const tenant = await makeTenant(db, { name: 'Tampered Telematics' });
    for (const n of [1, 2, 3, 4]) await write(db, tenant.id, n);
    const rows = await chainOf(tenant.id);
    await tamper(tenant.id, rows[2]!.id, { title: 'Quietly changed' });

    const report = await verifyAuditChains(db, { tenantId: tenant.id });
    expect(report.broken).toEqual([
      { tenantId: tenant.id, tenantName: 'Tampered Telematics', entryId: rows[2]!.id, seq: 3, reason: 'content' },
    ]);

    await expect(runJob(verifyAuditChainsJob, { db, clock, mail: ctx.mail })).rejects.toThrow(
      `broken at entry ${rows[2]!.id} (#3)`,
    );
    const run = await db('job_runs').where({ job: 'verify-audit-chains' }).orderBy('id', 'desc').first();
    expect(run.outcome).toBe('failed');
    expect(run.error).toContain(`Tampered Telematics (${tenant.id}) broken at entry ${rows[2]!.id} (#3)`);

    await runJob(sendMail, { db, clock, mail: ctx.mail });
    const mail = await smtp.waitFor(
      (m) => m.subject === `Audit log of Tampered Telematics altered at entry ${rows[2]!.id}`,
    );
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe(operator.email);
    expect(mail.text).toContain('its content no longer matches its hash');
  });

  it('finds an entry removed from the middle of a chain', async () => {
    const tenant = await makeTenant(db);
    for (const n of [1, 2, 3]) await write(db, tenant.id, n);
    const rows = await chainOf(tenant.id);
    await db.transaction(async (trx) => {
      await trx.raw("set local portico.audit_rewrite = 'on'");
      await trx('audit_log').where({ tenant_id: tenant.id, id: rows[1]!.id }).del();
    });
    const report = await verifyAuditChains(db, { tenantId: tenant.id });
    expect(report.broken.map((b) => [b.entryId, b.reason])).toEqual([[rows[2]!.id, 'gap']]);
  });
});
