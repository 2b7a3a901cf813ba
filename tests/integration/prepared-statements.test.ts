import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startPgBouncer, until } from '../../deploy/scale-test/stack.js';
import { freePort } from '../../src/db/embedded.js';
import { createDb, usesPreparedStatements } from '../../src/db/index.js';
import { queryInTenant } from '../../src/db/tenant.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import type { Actor } from '../../src/services/access/index.js';
import { listAssets } from '../../src/services/assets/list.js';
import { assetFilterFrom } from '../../src/services/assets/list-rules.js';
import { customerSummary } from '../../src/services/billing/summaries.js';
import { loadActor, loadSessionWithActor } from '../../src/services/people/index.js';
import { usageFilterFrom } from '../../src/services/partners/usage-rules.js';
import { partnerUsageLog } from '../../src/services/partners/view.js';
import { testDatabase } from '../support/db.js';

/**
 * DATABASE_PREPARED_STATEMENTS (on by default): the hot pages' statements go as named statements in one
 * pipeline. Every page reads exactly what it reads with the setting off (multi-statement simple queries),
 * the first time on a connection and once the statements are prepared on it, and within the actor's tenant
 * only; where named statements fail for being named (a pooler that loses them, a table changed under them),
 * the page is read as text instead, and nobody sees the error.
 */

const { url } = await testDatabase();
// the setting off: statements as text
const db = createDb(url, { poolMax: 2 });
afterAll(() => db.destroy());
const now = new Date('2026-11-24T09:00:00Z');
await seedDemo(db, { now });
// one connection, so the second request surely finds the statements prepared
const prepared = createDb(url, { poolMax: 1, preparedStatements: true });
afterAll(() => prepared.destroy());

const today = '2026-11-24';
const northwind = demoId('customer:northwind');
const actorOf = async (login: string): Promise<Actor> =>
  (await loadActor(db, demoId(`user:${login}`), demoId(`membership:${login}`)))!;
const admin = await actorOf('admin@demo.test');
const partner = await actorOf('partner@bluewave.test');
const owner = await actorOf('owner@northwind.test');
const other = await actorOf('admin@other.test');

/** What a page reads, with the default and with prepared statements (twice: preparing, then prepared). */
async function bothWays<T>(read: (d: typeof db) => Promise<T>): Promise<T> {
  const plain = await read(db);
  expect(plain).toBeTruthy();
  expect(await read(prepared)).toEqual(plain);
  expect(await read(prepared)).toEqual(plain);
  return plain;
}

describe('prepared statements for the hot pages', () => {
  it('reads the same asset list pages: first page, next page, a tab and a search', async () => {
    const filter = assetFilterFrom({}, today);
    const first = await bothWays((d) => listAssets(d, owner, filter));
    expect(first.rows.length).toBeGreaterThan(0);
    const page = await bothWays((d) => listAssets(d, owner, { ...filter, size: 10 }));
    if (page.nextCursor)
      await bothWays((d) => listAssets(d, owner, assetFilterFrom({ after: page.nextCursor, size: '10' }, today)));
    await bothWays((d) => listAssets(d, owner, { ...filter, tab: 'active' }));
    // staff, for one customer: a third statement
    await bothWays((d) => listAssets(d, admin, { ...filter, customerId: northwind }));
    const searched = await bothWays((d) => listAssets(d, owner, { ...filter, q: first.rows[0]!.identifier.slice(2) }));
    expect(searched.rows.map((r) => r.id)).toContain(first.rows[0]!.id);
  });

  it('reads the same partner usage log and call summaries', async () => {
    const log = await bothWays((d) => partnerUsageLog(d, partner, northwind, 'sms', usageFilterFrom({}, today)));
    expect(log.rows.length).toBeGreaterThan(0);
    for (const view of ['daily', 'monthly', 'live'])
      await bothWays((d) => customerSummary(d, admin, northwind, { view }, now));
    // the one connection holds the pages' statements as prepared statements, planned once for it
    const { rows } = (await prepared.raw('select name from pg_prepared_statements')) as { rows: { name: string }[] };
    expect(rows.filter((r) => /^portico_[0-9a-f]{24}$/.test(r.name)).length).toBeGreaterThan(5);
  });

  it('keeps each statement inside the tenant the request set: another tenant reads none of these rows', async () => {
    const mine = await prepared('assets').where({ tenant_id: admin.tenantId }).count({ n: '*' }).first();
    expect(Number(mine!.n)).toBeGreaterThan(0);
    const sql = prepared('assets').count({ n: '*' });
    const [seen] = await queryInTenant(prepared, other.tenantId, [sql]);
    const [seenAgain] = await queryInTenant(prepared, admin.tenantId, [sql]);
    expect(Number(seenAgain!.rows[0].n)).toBe(Number(mine!.n));
    expect(Number(seen!.rows[0].n)).toBeLessThan(Number(mine!.n));
    // and a failed statement leaves no tenant behind on the connection
    await expect(queryInTenant(prepared, admin.tenantId, ['select 1/0'])).rejects.toThrow(/division by zero/);
    const { rows } = (await prepared.raw("select coalesce(current_setting('portico.tenant_id', true), '') as t")) as {
      rows: { t: string }[];
    };
    expect(rows[0]!.t).toBe('');
  });

  it('reads a session and its actor as a named statement, as without', async () => {
    const sid = 'prepared-statements-test';
    await db('session').insert({
      sid,
      sess: JSON.stringify({ userId: admin.userId, membershipId: admin.membershipId, issuedAt: now.getTime() }),
      expire: new Date(Date.now() + 3_600_000),
    });
    const at = { expiresAfter: Math.ceil(Date.now() / 1000), now };
    const plain = await loadSessionWithActor(db, sid, at);
    expect(plain?.principal).toEqual(admin);
    expect(await loadSessionWithActor(prepared, sid, at)).toEqual(plain);
    expect(await loadSessionWithActor(prepared, sid, at)).toEqual(plain);
    const { rows } = (await prepared.raw('select name from pg_prepared_statements')) as { rows: { name: string }[] };
    expect(rows.map((r) => r.name)).toContainEqual(expect.stringMatching(/^portico_session_actor_[0-9a-f]{16}$/));
  });

  it('reads the page again as text when a table changed under a statement prepared before (a migration during a rolling deployment)', async () => {
    const filter = assetFilterFrom({}, today);
    const before = await listAssets(prepared, owner, filter);
    const counts = () => queryInTenant(prepared, owner.tenantId, [prepared('assets').select('*').limit(1)]);
    const [row] = await counts();
    // another instance's migration adds a column: a prepared `select *` would now refuse to run
    await db.raw('alter table assets add column added_by_a_newer_version int');
    try {
      const [again] = await counts();
      expect(again!.fields.map((f) => f.name)).toEqual([...row!.fields.map((f) => f.name), 'added_by_a_newer_version']);
      expect(await listAssets(prepared, owner, filter)).toEqual(before);
      // and the pool keeps named statements: the connection that held the old one was replaced
      expect(usesPreparedStatements(prepared)).toBe(true);
    } finally {
      await db.raw('alter table assets drop column added_by_a_newer_version');
    }
  });
});

describe('through a PgBouncer in transaction pooling', () => {
  it('reads every page as without, and goes back to text for good if this PgBouncer loses named statements', async () => {
    const pgbouncerVersion = execFileSync('/usr/sbin/pgbouncer', ['--version'], { encoding: 'utf8' });
    const [, major, minor] = /PgBouncer (\d+)\.(\d+)/.exec(pgbouncerVersion)!.map(Number);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'portico-bouncer-'));
    const port = await freePort();
    const bouncer = startPgBouncer({
      dir,
      logDir: dir,
      port,
      primaryPort: Number(new URL(url).port),
      lifetimeSeconds: 600,
      // fewer server connections than clients: a transaction often runs on another client's connection
      poolSize: 2,
      database: new URL(url).pathname.slice(1),
    });
    const bouncerUrl = `postgres://portico:portico@127.0.0.1:${port}/portico`;
    await until('PgBouncer answers', 10_000, async () => {
      const probe = createDb(bouncerUrl, { poolMax: 1 });
      try {
        await probe.raw('select 1');
        return true;
      } catch {
        return false;
      } finally {
        await probe.destroy();
      }
    });
    const warnings: string[] = [];
    const through = createDb(bouncerUrl, {
      poolMax: 4,
      preparedStatements: true,
      log: (m) => warnings.push(m),
    });
    try {
      const filter = assetFilterFrom({}, today);
      const expected = await listAssets(db, owner, filter);
      // four readers at once, twenty pages each
      const pages = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const read = [];
          for (let i = 0; i < 20; i++) read.push(await listAssets(through, owner, filter));
          return read;
        }),
      );
      for (const page of pages.flat()) expect(page).toEqual(expected);
      if (major! < 2 && minor! < 21) {
        // PgBouncer before 1.21 (Debian 12 ships 1.18) cannot carry them
        expect(usesPreparedStatements(through)).toBe(false);
        expect(warnings.filter((w) => /named statements are lost/.test(w))).toHaveLength(1);
      }
    } finally {
      await through.destroy();
      await bouncer.stop('SIGINT', 3000);
    }
  });
});
