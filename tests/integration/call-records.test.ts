import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { CDR_PAGE_SIZE } from '../../src/services/assets/call-records.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeGroup, makeTenant, makeUsageRecords, makeUser } from '../support/factories.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const { db } = await testDatabase();
const { app } = testApp({ db, clock: fixedClock(NOW) });

const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Callers Ltd' });
await db('customers').where({ id: customer.id }).update({ currency: 'GBP' });
const group = await makeGroup(db, customer);
const asset = await makeAsset(db, { group }, { identifier: '356000000000001' });
const otherAsset = await makeAsset(db, { group });
const admin = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
const stranger = await makeUser(db, {
  tenantId: tenant.id,
  role: 'company_admin',
  customerId: (await makeCustomer(db, tenant.id)).id,
});

// 70 voice calls an hour apart back from now, 10 SMS, and what must not show: older than a month,
// video, another asset's
await makeUsageRecords(db, customer, 70, {
  assetId: asset.id,
  from: new Date(NOW.getTime() - 60_000),
  priceMinor: 125,
});
await makeUsageRecords(db, customer, 10, {
  assetId: asset.id,
  product: 'sms',
  direction: 'inbound',
  status: 'delivered',
  durationSeconds: 0,
  fromNumber: '+447700900555',
  from: new Date('2026-11-20T12:00:00Z'),
});
await makeUsageRecords(db, customer, 5, {
  assetId: asset.id,
  from: new Date('2026-10-24T08:59:00Z'),
  toNumber: '+15550000000',
});
await makeUsageRecords(db, customer, 3, {
  assetId: asset.id,
  product: 'video',
  from: new Date('2026-11-23T12:00:00Z'),
});
await makeUsageRecords(db, customer, 4, { assetId: otherAsset.id, from: new Date('2026-11-23T12:00:00Z') });

describe('call data records of an asset', () => {
  it('lists only the voice and SMS records of the last month, newest first, over keyset pages', async () => {
    const { agent } = await signedInAgent(app, admin.email, admin.password);
    const first = await agent.get(`/assets/${asset.id}/call-records`);
    expect(first.status).toBe(200);
    const rowsOf = (html: string) => [...html.matchAll(/<tr>\s*<td><time datetime="([^"]+)"/g)].map((m) => m[1]!);
    const seen = rowsOf(first.text);
    expect(seen.length).toBe(CDR_PAGE_SIZE);
    expect(first.text).toContain('£1.25');
    let next = /href="([^"]+)" rel="next"/.exec(first.text);
    while (next) {
      const res = await agent.get(next[1]!);
      seen.push(...rowsOf(res.text));
      next = /href="([^"]+)" rel="next"/.exec(res.text);
    }
    expect(seen.length).toBe(80);
    expect(seen.every((t) => t >= '2026-10-24T09:00:00.000Z')).toBe(true);
    expect([...seen].sort().reverse()).toEqual(seen);
  });

  it('exports the same rows as CSV', async () => {
    const { agent } = await signedInAgent(app, admin.email, admin.password);
    const csv = await agent
      .get(`/assets/${asset.id}/call-records.csv`)
      .buffer(true)
      .parse((res, cb) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => cb(null, text));
      });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-disposition']).toContain('call-records-356000000000001-2026-11-24.csv');
    const rows = parse(csv.body as string, { columns: true }) as Record<string, string>[];
    expect(rows.length).toBe(80);
    expect(rows.filter((r) => r.Type === 'SMS').length).toBe(10);
    expect(rows.some((r) => r.Number === '+15550000000')).toBe(false);
    expect(rows[0]).toMatchObject({ Type: 'Voice', Direction: 'Outbound', 'Duration (seconds)': '60', Cost: '1.25' });
    // the page's rows, in the same order
    const page = await agent.get(`/assets/${asset.id}/call-records`);
    const times = [...page.text.matchAll(/<tr>\s*<td><time datetime="([^"]+)"/g)].map((m) => m[1]!);
    expect(rows.slice(0, CDR_PAGE_SIZE).map((r) => r['Time (UTC)'])).toEqual(times);
  });

  it('answers 404 for an asset outside the person’s reach', async () => {
    const { agent } = await signedInAgent(app, stranger.email, stranger.password);
    expect((await agent.get(`/assets/${asset.id}/call-records`)).status).toBe(404);
    expect((await agent.get(`/assets/${asset.id}/call-records.csv`)).status).toBe(404);
  });
});
