import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { renewDueSubscriptions } from '../../src/services/assets/renewals.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeGroup, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/**
 * The asset search reads its trigram index from a table of its own (asset_search), kept by triggers
 * on assets: what a person searches for must follow every change of an identifier, name or group
 * path, and must not move when a renewal or a location rewrites the rest of the row.
 */
const { db } = await testDatabase();
const { app } = testApp({ db, clock: fixedClock('2027-03-01T09:00:00Z') });

const tenant = await makeTenant(db, { name: 'Search Telematics' });
const customer = await makeCustomer(db, tenant.id, { title: 'Search Freight' });
const cranes = await makeGroup(db, customer, { name: 'Cranes' });
const lifts = await makeGroup(db, customer, { name: 'Lifts', parent: cranes });
const tower = await makeAsset(db, { group: lifts }, { identifier: '356000000000101', name: 'Tower crane' });
const mobile = await makeAsset(db, { group: cranes }, { identifier: '356000000000102', name: 'Mobile crane' });
// a yearly term that ended yesterday: the renewal job rewrites its row
const renewing = await makeAsset(
  db,
  { group: cranes },
  {
    identifier: '356000000000103',
    name: 'Gantry crane',
    plan: 'yearly',
    term_start: '2026-03-01',
    term_end: '2027-02-28',
    next_renewal_on: '2027-03-01',
  },
);
await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
  { email: 'owner@search.test' },
);
const { agent, csrf } = await signedInAgent(app, 'owner@search.test', TEST_PASSWORD);

/** The identifiers the asset list shows for a search. */
async function found(q: string): Promise<string[]> {
  const res = await agent.get(`/assets?q=${encodeURIComponent(q)}&size=100`);
  expect(res.status).toBe(200);
  return [...res.text.matchAll(/<th scope="row">(?:<a href="[^"]+">)?([^<]+)</g)].map((m) => m[1]!).sort();
}

describe('the asset search', () => {
  it('finds a new asset by its name, identifier and group path', async () => {
    expect(await found('tower')).toEqual([tower.identifier]);
    expect(await found('0000101')).toEqual([tower.identifier]);
    expect(await found('cranes / lifts')).toEqual([tower.identifier]);
  });

  it('finds the assets of a renamed group by the new path only', async () => {
    const res = await agent
      .post(`/groups/${cranes.id}`)
      .type('form')
      .send({ _csrf: csrf, name: 'Hoists', reference: '', enabled: 'on' });
    expect(res.status).toBe(303);
    expect(await found('hoists')).toEqual([tower.identifier, mobile.identifier, renewing.identifier].sort());
    expect(await found('hoists / lifts')).toEqual([tower.identifier]);
    expect(await found('cranes / lifts')).toEqual([]);
  });

  it('still finds an asset after the renewal job and a new location rewrote its row', async () => {
    expect(await renewDueSubscriptions(db, '2027-03-01')).toMatchObject({ renewed: 1 });
    await db('assets').where({ id: mobile.id }).update({ last_latitude: 51.5, last_longitude: -0.1 });
    expect(await found('gantry')).toEqual([renewing.identifier]);
    expect(await found('mobile crane')).toEqual([mobile.identifier]);
  });

  it('forgets a deleted asset', async () => {
    await db('assets').where({ id: mobile.id }).del();
    expect(await found('mobile crane')).toEqual([]);
    expect(await db('asset_search').where({ asset_id: mobile.id }).first()).toBeUndefined();
  });
});
