import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { csrfFrom, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeGroup, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/**
 * A CSV export streams from one database connection in one transaction for as long as its reader takes.
 * Readers who stop reading must not take the pool from everyone else, nor hold it forever.
 */

const { db } = await testDatabase(); // a pool of 5 connections
const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Long Names Ltd' });
const group = await makeGroup(db, customer, { name: 'Fleet' });
// 25,000 assets with long names make a CSV of about 30 MB, far more than the sockets between PostgreSQL,
// the app and a reader hold: a reader who stops reading keeps its export, and its connection, busy
await db.transaction(async (trx) => {
  await trx.raw('set local session_replication_role = replica'); // no counter upserts for each row
  await trx.raw(
    `insert into assets (tenant_id, customer_id, group_id, group_path, identifier, name, status, plan)
     select ?, ?, ?, ?, '35' || lpad(n::text, 13, '0'), ?, 'active', 'monthly' from generate_series(1, 25000) n`,
    [tenant.id, customer.id, group.id, `Fleet / ${'x'.repeat(900)}`, 'y'.repeat(200)],
  );
});
/** Eight company admins: more stalled readers than the pool has connections; and one more person. */
const [someoneElse, ...readers] = await Promise.all(
  Array.from({ length: 9 }, () =>
    makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id }),
  ),
);

async function listen(app: Express) {
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** COPY exports PostgreSQL is running: a stopped reader's export ends with its query. */
const exportsRunning = async () =>
  Number(
    (
      await db.raw<{ rows: { n: number }[] }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and query ilike 'copy (%'",
      )
    ).rows[0]!.n,
  );
/** Waits until the server has let go of every export (it learns that a reader left a moment after it left). */
async function exportsEnded() {
  while ((await exportsRunning()) > 0) await sleep(20);
}

async function cookieFor(app: Express, email: string): Promise<string> {
  const login = await supertest(app).get('/login');
  const res = await supertest(app)
    .post('/login')
    .set('Cookie', cookieOf(login.headers['set-cookie']))
    .type('form')
    .send({ email, password: TEST_PASSWORD, _csrf: csrfFrom(login.text) });
  expect(res.status).toBe(303);
  return cookieOf(res.headers['set-cookie']);
}
const cookieOf = (setCookie: string[] | string | undefined) =>
  [setCookie ?? []]
    .flat()
    .map((c) => c.split(';')[0]!)
    .join('; ');

type Stalled = {
  status: number;
  retryAfter: string | undefined;
  /** reads what is left: true if the download was complete, false if the server cut it off */
  readRest(): Promise<boolean>;
  stop(): void;
};

/** Asks for the whole asset list as CSV and reads nothing of it: only the status line and headers. */
function stalledDownload(port: number, cookie: string): Promise<Stalled> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/assets.csv?tab=all', headers: { Cookie: cookie } });
    req.on('error', reject);
    req.on('response', (res) => {
      res.pause();
      const ended = new Promise<boolean>((done) => {
        res.once('end', () => done(true));
        res.once('close', () => done(res.complete));
        res.once('error', () => done(false));
      });
      const readRest = () => {
        res.resume();
        return ended;
      };
      req.removeListener('error', reject);
      req.on('error', () => undefined);
      resolve({
        status: res.statusCode!,
        retryAfter: res.headers['retry-after'],
        readRest,
        stop: () => req.destroy(),
      });
    });
  });
}

describe('stalled CSV downloads', () => {
  const { app } = testApp({ db });

  it('cannot take the pool: pages are served while more readers stall than it has connections', async () => {
    const port = await listen(app);
    const cookies = await Promise.all(readers.map((r) => cookieFor(app, r.email)));
    const stalled = await Promise.all(cookies.map((cookie) => stalledDownload(port, cookie)));
    try {
      // some stream (and hold their connection); the others wait a moment for one, then are told to come back
      const streaming = stalled.filter((s) => s.status === 200);
      const refused = stalled.filter((s) => s.status !== 200);
      expect(streaming.length).toBeGreaterThan(0);
      expect(refused.map((s) => [s.status, s.retryAfter])).toEqual(refused.map(() => [503, '5']));
      // meanwhile everyone else's pages answer
      const owner = await cookieFor(app, someoneElse!.email);
      for (const path of ['/assets', '/groups', '/settings', '/assets.csv?scope=page'])
        expect((await supertest(app).get(path).set('Cookie', owner)).status, path).toBe(200);
      // and a reader with a download under way is told to finish it first
      const again = await stalledDownload(port, cookies[stalled.indexOf(streaming[0]!)]!);
      expect([again.status, again.retryAfter]).toEqual([429, '5']);
    } finally {
      for (const s of stalled) s.stop();
    }
    await exportsEnded();
    // once they are gone, an export streams again, whole
    const whole = await supertest(app).get('/assets.csv?tab=all').set('Cookie', cookies[0]!);
    expect(whole.status).toBe(200);
    expect(whole.text.split('\n').length).toBeGreaterThan(25_000);
  }, 120_000);
});

describe('a CSV download whose reader stopped reading', () => {
  const { app } = testApp({ db, env: { EXPORT_SEND_TIMEOUT_SECONDS: '1' } });

  it('is ended after the send timeout, and its reader may download again', async () => {
    const port = await listen(app);
    const cookie = await cookieFor(app, readers[0]!.email);
    const stalled = await stalledDownload(port, cookie);
    expect(stalled.status).toBe(200);
    // the server ends the export while the reader reads nothing; the reader then finds it cut off
    await exportsEnded();
    await expect(stalled.readRest()).resolves.toBe(false);
    const again = await supertest(app).get('/assets.csv?tab=all').set('Cookie', cookie);
    expect(again.status).toBe(200);
  });
});
