import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeApiKey } from '../support/factories.js';

/**
 * Every list that pages by cursor (DESIGN section 10): a cursor that is not one the list wrote, or
 * one whose values cannot be a row's (an id past bigint, a time that is no time, a NUL), answers
 * 400: a page in the app, JSON on the API. Never a 5xx, never silently the first page.
 */

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db });
const northwind = demoId('customer:northwind');
const trucks = demoId('group:trucks');
const truck = (await db('assets').where({ group_id: trucks }).orderBy('identifier').first('id')) as { id: string };
const owner = await signedInAgent(app, 'owner@northwind.test');
const admin = await signedInAgent(app, 'admin@demo.test');
const partner = await signedInAgent(app, 'partner@bluewave.test');
const key = await makeApiKey(db, demoId('tenant:demo'));

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const json = (value: unknown) => b64(JSON.stringify(value));
const uuid = '00000000-0000-4000-8000-000000000000';
/** Cursors no list ever wrote: past bigint, unreal times, NULs, the wrong shape, not base64 at all. */
const BAD = {
  garbage: 'not a cursor!',
  bigint: '9999999999999999999',
  usageBigint: b64('2026-11-01T00:00:00.000000Z|9999999999999999999'),
  usageNoTime: b64('2026-02-31T25:61:00.000000Z|1'),
  usageYearZero: b64('0000-01-01T00:00:00.000000Z|1'),
  assetNul: json([uuid, 'Trucks\u0000', 'x', uuid]),
  assetShape: json([uuid, 'Trucks', 7, uuid]),
  invoiceNoTime: json(['1', uuid]),
  invoiceYearZero: json(['0000-01-01T00:00:00.000000Z', uuid]),
};

type Agent = Awaited<ReturnType<typeof signedInAgent>>;
async function expectBadCursor(who: Agent, url: string) {
  const res = await who.agent.get(url);
  expect([url, res.status]).toEqual([url, 400]);
  expect(res.type).toBe('text/html');
  expect(res.text).toContain('not valid any more');
}

describe('a bad cursor', () => {
  it("answers 400 on an asset's call records, where an id past bigint was a 500", async () => {
    for (const after of [BAD.bigint, BAD.garbage, '-1', '1.5'])
      await expectBadCursor(owner, `/assets/${truck.id}/call-records?after=${encodeURIComponent(after)}`);
    expect((await owner.agent.get(`/assets/${truck.id}/call-records?after=9223372036854775807`)).status).toBe(200);
  });

  it("answers 400 on a partner's usage log, where an id past bigint or a time that is no time was a 500", async () => {
    const log = `/partner/customers/${northwind}/usage/sms`;
    for (const after of [BAD.usageBigint, BAD.usageNoTime, BAD.usageYearZero, BAD.garbage])
      await expectBadCursor(partner, `${log}?after=${encodeURIComponent(after)}`);
    await expectBadCursor(partner, `${log}.csv?after=${BAD.usageBigint}`);
  });

  it('answers 400 on the asset lists, before and after, the group page and the staff tab included', async () => {
    for (const cursor of [BAD.assetNul, BAD.assetShape, BAD.garbage]) {
      const c = encodeURIComponent(cursor);
      await expectBadCursor(owner, `/assets?after=${c}`);
      await expectBadCursor(owner, `/assets?tab=active&before=${c}`);
      await expectBadCursor(owner, `/assets.csv?after=${c}`);
      await expectBadCursor(owner, `/groups/${trucks}?after=${c}`);
      await expectBadCursor(admin, `/admin/customers/${northwind}/assets?after=${c}`);
    }
  });

  it("answers 400 on outgoing mail, the request queue and a customer's audit log", async () => {
    for (const before of [BAD.bigint, BAD.garbage, '0']) {
      await expectBadCursor(admin, `/admin/mail?before=${encodeURIComponent(before)}`);
      await expectBadCursor(admin, `/admin/customers/${northwind}/audit?before=${encodeURIComponent(before)}`);
    }
    await expectBadCursor(admin, `/admin/requests?after=${encodeURIComponent(BAD.garbage)}`);
  });

  it('answers 400 in JSON on the invoices API', async () => {
    for (const after of [BAD.invoiceNoTime, BAD.invoiceYearZero, BAD.garbage]) {
      const res = await supertest(app)
        .get(`/api/v1/invoices?after=${encodeURIComponent(after)}`)
        .set('Authorization', `Bearer ${key}`);
      expect([after, res.status, res.type]).toEqual([after, 400, 'application/json']);
      expect(res.body.error).toMatch(/next_after/);
    }
  });

  it('still pages with the cursors the lists write', async () => {
    const first = await owner.agent.get('/assets?size=10');
    const next = /href="(\/assets\?[^"]*after=[^"]+)"/.exec(first.text)![1]!.replace(/&amp;/g, '&');
    expect((await owner.agent.get(next)).status).toBe(200);
  });
});
