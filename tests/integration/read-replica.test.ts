import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { fixedClock } from '../../src/clock.js';
import { createDb, ensureDatabase, migrate } from '../../src/db/index.js';
import { openReplica } from '../../src/db/replica.js';
import { inTenant, queryInTenant } from '../../src/db/tenant.js';
import { csrfFrom, signedInAgent, testApp, testContext } from '../support/app.js';
import { makeAsset, makeCustomer, makeGroup, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { caughtUp, startPrimary, startStandby } from '../support/streaming-replica.js';

// This file runs its own primary and a real streaming replica of it: a replica copies a whole server.
const dir = mkdtempSync(path.join(os.tmpdir(), 'portico-replica-'));
const primary = await startPrimary({ dir: path.join(dir, 'primary'), fast: true, lifetimeSeconds: 900 });
await ensureDatabase(primary.url(), 'portico');
const db = createDb(primary.url('portico'), { poolMax: 5 });
await migrate(db);
const standby = await startStandby(primary, { dir: path.join(dir, 'replica'), fast: true, lifetimeSeconds: 900 });
const replicaUrl = standby.url('portico');
afterAll(async () => {
  await replica.close();
  await db.destroy();
  await standby.stop();
  await primary.stop();
  await rm(dir, { recursive: true, force: true });
});

// reads go to the primary for MAX_LAG seconds after the person's own change; the test moves its clock past that
const MAX_LAG = 600;
const replica = openReplica(replicaUrl, { maxLagSeconds: MAX_LAG, poolMax: 3 });
const clock = fixedClock(new Date());
const env = { DATABASE_REPLICA_URL: replicaUrl, DATABASE_REPLICA_MAX_LAG: String(MAX_LAG) };
const app = createApp({ ...testContext({ db, clock, env }), replica });
const laterThanTheWindow = () => clock.advance((MAX_LAG + 1) * 1000);

/** Stops (or resumes) the replica applying what it receives, as a replica that lags does. */
async function replay(on: boolean) {
  const admin = createDb(replicaUrl, { poolMax: 1 });
  await admin.raw(on ? 'select pg_wal_replay_resume()' : 'select pg_wal_replay_pause()');
  await admin.destroy();
}

const tenant = await makeTenant(db, { name: 'Replica Telematics' });
const customer = await makeCustomer(db, tenant.id, { title: 'Replica Freight' });
const group = await makeGroup(db, customer, { name: 'Trucks' });
const owner = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
const shared = await makeAsset(db, { group }, { identifier: 'BOTH-0001', plan: 'monthly' });
const other = await makeTenant(db, { name: 'Other Provider' });
const otherCustomer = await makeCustomer(db, other.id);
await makeAsset(db, { customer: otherCustomer }, { identifier: 'OTHER-0001' });
const asOwner = await signedInAgent(app, owner.email, TEST_PASSWORD);

describe('with a read replica (DATABASE_REPLICA_URL)', () => {
  it('serves the asset list and its CSV from the replica to a person who changed nothing lately', async () => {
    laterThanTheWindow();
    await caughtUp(primary.url('portico'), replicaUrl);
    await replay(false);
    const onlyOnPrimary = await makeAsset(db, { group }, { identifier: 'PRIMARY-0001' });
    expect((await replica.check()).usable).toBe(true);

    const list = await asOwner.agent.get('/assets');
    expect(list.status).toBe(200);
    expect(list.text).toContain('BOTH-0001');
    expect(list.text).not.toContain('PRIMARY-0001');
    const csv = await asOwner.agent.get('/assets.csv');
    expect(csv.status).toBe(200);
    expect(csv.text).toContain('BOTH-0001');
    expect(csv.text).not.toContain('PRIMARY-0001');
    // an asset's own page is not one of the heavy reads: it comes from the primary
    const page = await asOwner.agent.get(`/assets/${onlyOnPrimary.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('PRIMARY-0001');
  });

  it('shows a person their own change at once, though the replica has not replayed it', async () => {
    const form = await asOwner.agent.get(`/assets/${shared.id}/deactivation-request`);
    const done = await asOwner.agent
      .post(`/assets/${shared.id}/deactivation-request`)
      .type('form')
      .send({ _csrf: csrfFrom(form.text) });
    expect(done.status).toBe(303);

    const pending = await asOwner.agent.get('/assets?tab=deactivation-pending');
    expect(pending.status).toBe(200);
    expect(pending.text).toContain('BOTH-0001');

    // once the window has passed the list comes from the replica again, which is still paused before the change
    laterThanTheWindow();
    const later = await asOwner.agent.get('/assets?tab=deactivation-pending');
    expect(later.status).toBe(200);
    expect(later.text).not.toContain('BOTH-0001');
  });

  it('keeps tenants apart on the replica as on the primary (row-level security under the app role)', async () => {
    const [rows, who] = await queryInTenant(replica.db, other.id, [
      'select identifier from assets order by identifier',
      'select current_user as role, pg_is_in_recovery() as replica',
    ]);
    expect(rows!.rows).toEqual([{ identifier: 'OTHER-0001' }]);
    expect(who!.rows).toEqual([{ role: 'portico_app', replica: true }]);
    const seen = await inTenant(replica.db, tenant.id, (trx) =>
      trx('assets').orderBy('identifier').pluck('identifier'),
    );
    expect(seen).toEqual(['BOTH-0001']);
  });

  it('reads the primary while the replica is down, and the replica again once it is back', async () => {
    await replay(true);
    await standby.stop();
    expect((await replica.check()).usable).toBe(false);
    const list = await asOwner.agent.get('/assets');
    expect(list.status).toBe(200);
    expect(list.text).toContain('PRIMARY-0001');

    await standby.start();
    await caughtUp(primary.url('portico'), replicaUrl);
    await replay(false);
    await makeAsset(db, { group }, { identifier: 'PRIMARY-0002' });
    expect((await replica.check()).usable).toBe(true);
    const again = await asOwner.agent.get('/assets');
    expect(again.status).toBe(200);
    expect(again.text).toContain('PRIMARY-0001');
    expect(again.text).not.toContain('PRIMARY-0002');
    await replay(true);
  });
});

describe('without a read replica', () => {
  it('reads everything from the primary and keeps no time of the last change in the session', async () => {
    const plain = testApp({ db, clock }).app;
    const sessionsOfOwner = async () =>
      ((await db('session').select('sid', 'sess')) as { sid: string; sess: Record<string, unknown> }[]).filter(
        (s) => s.sess.userId === owner.id,
      );
    const before = new Set((await sessionsOfOwner()).map((s) => s.sid));
    const me = await signedInAgent(plain, owner.email, TEST_PASSWORD);
    const form = await me.agent.get(`/assets/${shared.id}`);
    const done = await me.agent
      .post(`/assets/${shared.id}/deactivation-request/cancel`)
      .type('form')
      .send({ _csrf: csrfFrom(form.text) });
    expect(done.status).toBe(303);
    expect((await me.agent.get('/assets')).text).toContain('PRIMARY-0002');
    const mine = (await sessionsOfOwner()).filter((s) => !before.has(s.sid));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.sess).toHaveProperty('userId', owner.id);
    expect(mine[0]!.sess).not.toHaveProperty('lastWriteAt');
  });
});
