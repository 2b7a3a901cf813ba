import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { inTenant } from '../../src/db/tenant.js';
import { audit, GENESIS_HASH } from '../../src/services/platform/index.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const { app } = testApp({ db });
const tenant = await makeTenant(db, { name: 'Audited Telematics' });
const other = await makeTenant(db);
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }, { name: 'Ada Admin' });
const support = await makeUser(db, { tenantId: tenant.id, role: 'support_agent' });
const customer = await makeCustomer(db, tenant.id, { title: 'Northwind' });

// entries on three days; the chain hashes `at`, so it is set when written (the column's default is now())
for (const [n, at] of ['2026-11-30T10:00:00Z', '2026-12-01T10:00:00Z', '2026-12-02T10:00:00Z'].entries()) {
  await inTenant(db, tenant.id, (trx) =>
    trx('audit_log').insert({
      tenant_id: tenant.id,
      at,
      actor_user_id: admin.id,
      actor_label: 'Ada Admin <ada@example.test>',
      customer_id: customer.id,
      entity_type: 'customer',
      entity_id: customer.id,
      action: 'customer.updated',
      before: JSON.stringify({ title: `Title ${n}` }),
      after: JSON.stringify({ title: `Title ${n + 1}`, amount: 1250, note: 'quote " and \\ and ü\nnew line' }),
    }),
  );
}
// another tenant's entry, on a chain of its own
await inTenant(db, other.id, (trx) =>
  audit(
    trx,
    { system: 'Test', tenantId: other.id },
    { entityType: 'tenant', entityId: other.id, action: 'tenant.updated' },
  ),
);

const dir = mkdtempSync(path.join(os.tmpdir(), 'portico-audit-'));
const verifyExport = async (text: string) => {
  const file = path.join(dir, `export-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, text);
  return promisify(execFile)(process.execPath, ['scripts/verify-audit-export.mjs', file]).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stderr: string }) => ({ code: e.code, out: e.stderr }),
  );
};

describe('the audit log export for auditors', () => {
  it("gives a tenant admin their tenant's entries as JSON Lines that the README's script verifies", async () => {
    const { agent } = await signedInAgent(app, admin.email, TEST_PASSWORD);
    const res = await agent
      .get('/admin/audit.jsonl')
      .buffer(true)
      .parse((r, cb) => {
        let s = '';
        r.on('data', (c: Buffer) => (s += c.toString('utf8')));
        r.on('end', () => cb(null, s));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/jsonl; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="audit-log.jsonl"');
    const text = res.body as string;
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.tenant_id)).toEqual([tenant.id, tenant.id, tenant.id]);
    expect(lines[0]!.prev_hash).toBe(GENESIS_HASH);
    expect(lines[1]!.prev_hash).toBe(lines[0]!.hash);
    expect(lines[0]!.at).toBe('2026-11-30T10:00:00.000000Z');
    expect(Object.keys(lines[0]!)).toEqual(Object.keys(lines[0]!).sort());

    expect(await verifyExport(text)).toEqual({
      code: 0,
      out: `first entry follows ${GENESIS_HASH}\n3 entries verified; last hash ${lines[2]!.hash as string}\n`,
    });
    // one byte changed anywhere in an entry: the title's digit, then a letter of the actor
    const i = text.indexOf('Title 2');
    expect((await verifyExport(`${text.slice(0, i + 6)}3${text.slice(i + 7)}`)).code).toBe(1);
    const j = text.indexOf('Ada Admin');
    const tampered = await verifyExport(`${text.slice(0, j)}O${text.slice(j + 1)}`);
    expect(tampered).toEqual({ code: 1, out: `broken at line 1 (entry ${lines[0]!.id as number})\n` });
    // a line dropped from the middle breaks the link
    const [a, , c] = text.trimEnd().split('\n');
    expect((await verifyExport(`${a}\n${c}\n`)).code).toBe(1);
  });

  it('exports a period given as inclusive dates, still a chain the script verifies', async () => {
    const { agent } = await signedInAgent(app, admin.email, TEST_PASSWORD);
    const res = await agent.get('/admin/audit.jsonl?from=2026-12-01&to=2026-12-01').buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="audit-log-from-2026-12-01-to-2026-12-01.jsonl"',
    );
    const text = res.text;
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { at: string; seq: number });
    expect(lines.map((l) => [l.seq, l.at])).toEqual([[2, '2026-12-01T10:00:00.000000Z']]);
    expect((await verifyExport(text)).code).toBe(0);
  });

  it('answers 400 to a date that is not one, and 403 to staff who are not tenant admins', async () => {
    const { agent } = await signedInAgent(app, admin.email, TEST_PASSWORD);
    expect((await agent.get('/admin/audit.jsonl?from=2026-02-30')).status).toBe(400);
    expect((await agent.get('/admin/audit.jsonl?from=2026-12-02&to=2026-12-01')).status).toBe(400);
    const staff = await signedInAgent(app, support.email, TEST_PASSWORD);
    expect((await staff.agent.get('/admin/audit.jsonl')).status).toBe(403);
  });
});

describe("the customer's audit tab as CSV", () => {
  it("gives every entry of the customer, newest first, with its difference, and no other customer's", async () => {
    const elsewhere = await makeCustomer(db, tenant.id, { title: 'Elsewhere' });
    await inTenant(db, tenant.id, (trx) =>
      audit(
        trx,
        { system: 'Test', tenantId: tenant.id },
        { entityType: 'customer', entityId: elsewhere.id, customerId: elsewhere.id, action: 'customer.updated' },
      ),
    );
    const { agent } = await signedInAgent(app, admin.email, TEST_PASSWORD);
    const tab = await agent.get(`/admin/customers/${customer.id}/audit`);
    expect(tab.text).toContain(`href="/admin/customers/${customer.id}/audit.csv"`);
    const res = await agent.get(`/admin/customers/${customer.id}/audit.csv`).buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="audit-log-Northwind.csv"');
    const text = res.text;
    expect(text.split('\n')[0]).toBe('Time (UTC),By,Entity,Entity id,Action,Difference');
    expect(text).not.toContain(elsewhere.id);
    // newest first; the difference as JSON, quoted as CSV quotes
    expect(text).toContain('""title"":{""before"":""Title 2"",""after"":""Title 3""}');
    expect(text.indexOf('Title 2')).toBeLessThan(text.indexOf('Title 0'));
    expect(text.match(/customer\.updated/g)).toHaveLength(3);

    // another tenant's customer is not found; staff without the audit tab are refused
    expect((await agent.get(`/admin/customers/${(await makeCustomer(db, other.id)).id}/audit.csv`)).status).toBe(404);
    const staff = await signedInAgent(app, support.email, TEST_PASSWORD);
    expect((await staff.agent.get(`/admin/customers/${customer.id}/audit.csv`)).status).toBe(403);
  });
});

describe("the tenant's audit log page", () => {
  it("lists the tenant's entries, filtered by customer, person, kind and inclusive period, keyset-paged", async () => {
    const second = await makeCustomer(db, tenant.id, { title: 'Southwind' });
    // 55 entries for Southwind on 2026-12-03 by a system actor: more than a page
    await inTenant(db, tenant.id, async (trx) => {
      for (let n = 0; n < 55; n++)
        await trx('audit_log').insert({
          tenant_id: tenant.id,
          at: '2026-12-03T08:00:00Z',
          actor_label: 'Nightly job',
          customer_id: second.id,
          entity_type: 'asset',
          entity_id: `a-${n}`,
          action: 'asset.renewed',
        });
    });
    const { agent } = await signedInAgent(app, admin.email, TEST_PASSWORD);
    const rows = (html: string) => (html.match(/<tr>\s*<td><time/g) ?? []).length;

    const all = await agent.get('/admin/audit');
    expect(all.status).toBe(200);
    expect(all.text).toContain('<a href="/admin/audit" aria-current="page">Audit log</a>');
    expect(rows(all.text)).toBe(50);
    const older = /href="(\/admin\/audit\?before=\d+)" rel="next"/.exec(all.text)![1]!;
    const next = await agent.get(older.replace(/&amp;/g, '&'));
    // 55 + the 3 of Northwind + the one of another test's Elsewhere entry, in this tenant only
    expect(rows(next.text)).toBeGreaterThanOrEqual(8);
    expect(next.text).not.toContain('tenant.updated');

    const byCustomer = await agent.get(`/admin/audit?customer=${customer.id}`);
    expect(rows(byCustomer.text)).toBe(3);
    expect(rows((await agent.get('/admin/audit?actor=ada%20admin')).text)).toBe(3);
    expect(rows((await agent.get(`/admin/audit?actor=${admin.id}`)).text)).toBe(3);
    expect(rows((await agent.get('/admin/audit?kind=asset')).text)).toBe(50);
    expect(rows((await agent.get('/admin/audit?kind=asset.renewed&customer=' + customer.id)).text)).toBe(0);
    // inclusive dates: the 1st and the 2nd, both whole days in the admin's zone (UTC)
    expect(rows((await agent.get('/admin/audit?from=2026-12-01&to=2026-12-02')).text)).toBe(2);
    // paging keeps the filters
    const paged = await agent.get('/admin/audit?kind=asset');
    expect(paged.text).toMatch(/href="\/admin\/audit\?kind=asset&amp;before=\d+" rel="next"/);

    expect((await agent.get('/admin/audit?from=2026-02-30')).status).toBe(400);
    expect((await agent.get('/admin/audit?before=nonsense')).status).toBe(400);
    const staff = await signedInAgent(app, support.email, TEST_PASSWORD);
    expect((await staff.agent.get('/admin/audit')).status).toBe(403);
  });
});
