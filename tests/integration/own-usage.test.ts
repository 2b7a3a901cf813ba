import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { DEMO_CONTACT_NAMES, DEMO_MESSAGE_TEXTS } from '../../src/demo/usage.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeUsageRecords } from '../support/factories.js';

const { db } = await testDatabase();
await seedDemo(db, { now: new Date('2026-11-24T09:00:00Z') });
const { app } = testApp({ db, clock: fixedClock('2026-11-24T09:00:00Z') });
const tenantId = demoId('tenant:demo');
const northwind = demoId('customer:northwind');
const south = demoId('customer:northwind-south');
const acme = demoId('customer:acme');
const owner = (await signedInAgent(app, 'owner@northwind.test')).agent;
const PERIOD = 'from=2026-11-01&to=2026-11-24';

const countOf = async (customerId: string, product: string, where: Record<string, string> = {}) =>
  Number(
    (
      await db('usage_records')
        .where({ tenant_id: tenantId, customer_id: customerId, product, ...where })
        .where('occurred_at', '>=', '2026-11-01T00:00:00Z')
        .where('occurred_at', '<', '2026-11-25T00:00:00Z')
        .count<{ n: number }[]>({ n: '*' })
    )[0]!.n,
  );

describe("a company admin's own usage (/usage)", () => {
  it('shows their SMS records with numbers in full, and never a contact name or message content', async () => {
    const res = await owner.get(`/usage?product=sms&${PERIOD}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('SMS');
    expect(res.text).toMatch(/\+44770090\d{4}/);
    expect(res.text).not.toContain('••••');
    for (const secret of [...DEMO_CONTACT_NAMES, ...DEMO_MESSAGE_TEXTS]) expect(res.text).not.toContain(secret);
    expect(res.text).toContain('href="/usage.csv?product=sms&amp;from=2026-11-01"');
  });

  it('filters by status in the query string and pages by keyset until the last record', async () => {
    const delivered = await countOf(northwind, 'sms', { status: 'delivered' });
    expect(delivered).toBeGreaterThan(100);
    let next: string | null = `/usage?product=sms&${PERIOD}&status=delivered&size=100`;
    let seen = 0;
    const ids = new Set<string>();
    while (next) {
      const page = await owner.get(next);
      expect(page.status).toBe(200);
      expect(page.text).not.toMatch(/badge usage-(pending|failed|rejected)/);
      for (const m of page.text.matchAll(/<time datetime="([^"]+)">/g)) ids.add(m[1]!);
      seen += (page.text.match(/<span class="badge usage-delivered">/g) ?? []).length;
      const older = /<a href="([^"]+)" rel="next"/.exec(page.text);
      next = older ? older[1]!.replaceAll('&amp;', '&') : null;
      if (next) expect(next).toMatch(/^\/usage\?product=sms&.*after=/);
    }
    expect(seen).toBe(delivered);
  });

  it('streams the whole filtered set as CSV, numbers in full', async () => {
    const res = await owner.get(`/usage.csv?product=voice&${PERIOD}&direction=outbound`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="usage-NW-1001-voice-2026-11-01-to-2026-11-24.csv"',
    );
    const lines = res.text.trim().split('\n');
    expect(lines[0]).toMatch(/^Time \(.+\),Direction,Status,From,To,Duration \(s\),Units,Price \(GBP\)$/);
    expect(lines.length - 1).toBe(await countOf(northwind, 'voice', { direction: 'outbound' }));
    // in full; the leading + neutralised for spreadsheets like every CSV cell
    expect(lines[1]).toMatch(/,Outbound,[^,]+,'\+44\d{10},/);
  });

  it("reaches an inner customer's records, and answers 404 for any other customer by any parameter", async () => {
    await makeUsageRecords(db, { id: south, tenant_id: tenantId }, 3, {
      product: 'sms',
      status: 'delivered',
      fromNumber: '+447700111222',
      from: new Date('2026-11-20T10:00:00Z'),
    });
    const inner = await owner.get(`/usage?product=sms&customer=${south}&${PERIOD}`);
    expect(inner.status).toBe(200);
    expect(inner.text).toContain('+447700111222');

    const other = await makeCustomer(db, demoId('tenant:other'));
    for (const id of [acme, other.id, 'not-a-uuid', '00000000-0000-0000-0000-000000000000']) {
      expect((await owner.get(`/usage?product=sms&customer=${id}`)).status).toBe(404);
      expect((await owner.get(`/usage.csv?product=sms&customer=${id}`)).status).toBe(404);
      expect((await owner.get(`/usage?product=sms&customer=${id}&customer=${northwind}`)).status).toBe(404);
    }
    const acmeNumber = await db('usage_records').where({ customer_id: acme }).first('from_number');
    const mine = await owner.get(`/usage?product=sms&${PERIOD}&size=100`);
    expect(mine.text).not.toContain(acmeNumber!.from_number);
    expect((await owner.get('/usage?product=fax')).status).toBe(404);
    expect((await owner.get('/usage?product=sms&after=garbage')).status).toBe(400);
  });

  it('refuses group admins, supervisors, partners and staff', async () => {
    for (const login of ['fleet@northwind.test', 'viewer@northwind.test', 'partner@bluewave.test', 'admin@demo.test']) {
      const { agent } = await signedInAgent(app, login);
      expect((await agent.get('/usage')).status).toBe(403);
      expect((await agent.get(`/usage.csv?customer=${northwind}`)).status).toBe(403);
    }
  });

  it('answers the next page alone to htmx, and the whole page without it', async () => {
    const first = await owner.get(`/usage?product=voice&${PERIOD}&size=10`);
    const older = /<a href="([^"]+)" rel="next"/.exec(first.text)![1]!.replaceAll('&amp;', '&');
    const fragment = await owner.get(older).set('HX-Request', 'true').set('HX-Target', 'div#usage-log');
    expect(fragment.text.trim().startsWith('<div id="usage-log">')).toBe(true);
    const page = await owner.get(older);
    expect(page.text).toContain('<h1>Usage');
  });
});
