import supertest from 'supertest';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { NotFoundError } from '../../src/errors.js';
import { addPriceList, repriceCustomerUsage, setCustomerProducts } from '../../src/services/billing/pricing.js';
import { loadActor } from '../../src/services/people/sign-in.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { DEMO_CONTACT_NAMES, DEMO_MESSAGE_TEXTS } from '../../src/demo/usage.js';
import { usageRecordKind } from '../../src/services/integration/ingestion.js';
import { usageFilterFrom } from '../../src/services/partners/usage-rules.js';
import { listPartnerCustomers } from '../../src/services/partners/partner-customers.js';
import {
  partnerDailyUsage,
  partnerUsageLog,
  partnerUsageWithChart,
  type PartnerUsageRow,
} from '../../src/services/partners/view.js';
import type { Actor } from '../../src/services/access/index.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makePartner, makeUsageRecords, makeUser } from '../support/factories.js';
import { listRoutes } from '../support/routes.js';

const { db } = await testDatabase();
await seedDemo(db, { now: new Date('2026-11-24T09:00:00Z') });
const clock = fixedClock('2026-11-24T09:00:00Z');
const { app } = testApp({ db, clock });
const tenantId = demoId('tenant:demo');
const northwind = demoId('customer:northwind');
const acme = demoId('customer:acme');
const today = '2026-11-24';

async function actorOf(userId: string, membershipId: string): Promise<Actor> {
  return (await loadActor(db, userId, membershipId))!;
}
const bluewave = await actorOf(demoId('user:partner@bluewave.test'), demoId('membership:partner@bluewave.test'));
const admin = await actorOf(demoId('user:admin@demo.test'), demoId('membership:admin@demo.test'));

/** A second reseller with one customer of its own and a signed-in partner viewer. */
async function otherReseller() {
  const partner = await makePartner(db, tenantId, { name: 'Coral Resellers' });
  const customer = await makeCustomer(db, tenantId, { title: 'Coral Customer' });
  await db('customers').where({ tenant_id: tenantId, id: customer.id }).update({ partner_id: partner.id });
  const user = await makeUser(db, { tenantId, role: 'partner_viewer', partnerId: partner.id });
  return { partner, customer, user, actor: await actorOf(user.id, user.membershipId) };
}

describe('partner view services', () => {
  it('lists exactly the customers assigned to the partner, searchable by name or account ID', async () => {
    const other = await otherReseller();
    const mine = await listPartnerCustomers(db, bluewave, {});
    expect(mine.rows.map((c) => c.accountId)).toEqual(['AC-2001', 'NW-1001']);
    expect(mine.total).toBe(2);
    expect((await listPartnerCustomers(db, other.actor, {})).rows.map((c) => c.title)).toEqual(['Coral Customer']);
    expect((await listPartnerCustomers(db, bluewave, { q: 'nw-1001' })).rows.map((c) => c.title)).toEqual([
      'Northwind Logistics',
    ]);
    expect((await listPartnerCustomers(db, bluewave, { q: 'acme' })).rows.map((c) => c.title)).toEqual([
      'Acme Field Services',
    ]);
    const nw = mine.rows.find((c) => c.id === northwind)!;
    expect(nw).toMatchObject({
      currency: 'GBP',
      products: ['sms', 'voice', 'messaging'],
      remainingCreditMinor: 50_000 - 12_345,
      remainingCreditLabel: '£376.55',
    });
  });

  it("answers not found for a product the customer has not enabled, and for another partner's customer", async () => {
    const filter = usageFilterFrom({}, today);
    await expect(partnerUsageLog(db, bluewave, northwind, 'video', filter)).rejects.toBeInstanceOf(NotFoundError);
    await expect(partnerUsageLog(db, bluewave, northwind, 'fax', filter)).rejects.toBeInstanceOf(NotFoundError);
    const other = await otherReseller();
    await expect(partnerUsageLog(db, other.actor, northwind, 'sms', filter)).rejects.toBeInstanceOf(NotFoundError);
    await expect(partnerUsageLog(db, bluewave, other.customer.id, 'sms', filter)).rejects.toBeInstanceOf(NotFoundError);
    // and with the chart: no days of another reseller's customer, nor of a product not enabled
    for (const [actor, customer, product] of [
      [other.actor, northwind, 'sms'],
      [bluewave, other.customer.id, 'sms'],
      [bluewave, northwind, 'video'],
    ] as const)
      await expect(partnerUsageWithChart(db, actor, customer, product, filter)).rejects.toBeInstanceOf(NotFoundError);
    expect((await partnerUsageLog(db, bluewave, northwind, 'sms', filter)).rows.length).toBe(25);
  });

  it(
    "shows each record at the customer's price in force at its time, " + 'and again after a correction is re-priced',
    async () => {
      const partner = await makePartner(db, tenantId);
      const customer = await makeCustomer(db, tenantId);
      await db('customers').where({ id: customer.id }).update({ partner_id: partner.id, currency: 'GBP' });
      const viewer = await makeUser(db, { tenantId, role: 'partner_viewer', partnerId: partner.id });
      const actor = await actorOf(viewer.id, viewer.membershipId);
      await setCustomerProducts(db, admin, customer.id, ['sms']);
      await addPriceList(db, admin, customer.id, {
        product: 'sms',
        unitPrice: '0.03',
        validFrom: '2026-01-01',
        validUntil: '2026-11-09',
      });
      await addPriceList(db, admin, customer.id, {
        product: 'sms',
        unitPrice: '0.05',
        validFrom: '2026-11-10',
        validUntil: '',
      });
      await makeUsageRecords(db, { id: customer.id, tenant_id: tenantId }, 1, {
        product: 'sms',
        status: 'delivered',
        units: 2,
        durationSeconds: 0,
        from: new Date('2026-11-09T23:30:00Z'),
      });
      await makeUsageRecords(db, { id: customer.id, tenant_id: tenantId }, 1, {
        product: 'sms',
        status: 'delivered',
        units: 2,
        durationSeconds: 0,
        from: new Date('2026-11-10T00:30:00Z'),
      });
      const log = async () =>
        (await partnerUsageLog(db, actor, customer.id, 'sms', usageFilterFrom({ from: '2026-11-01' }, today))).rows.map(
          (r) => [r.priceMinor, r.priceLabel],
        );
      expect(await log()).toEqual([
        [10, '£0.10'],
        [6, '£0.06'],
      ]);

      // a corrected list from the 10th: records already in keep their price until staff price them again
      await addPriceList(db, admin, customer.id, {
        product: 'sms',
        unitPrice: '0.07',
        validFrom: '2026-11-10',
        validUntil: '',
      });
      expect(await log()).toEqual([
        [10, '£0.10'],
        [6, '£0.06'],
      ]);
      expect(
        await repriceCustomerUsage(db, admin, customer.id, { product: 'sms', from: '2026-11-01', to: '2026-11-30' }),
      ).toEqual({ changed: 1, product: 'sms' });
      expect(await log()).toEqual([
        [14, '£0.14'],
        [6, '£0.06'],
      ]);
    },
  );

  it('leaves an ingested record without a price to the price list, and keeps a price the sender gives', () => {
    const record = {
      account_id: 'NW-1001',
      product: 'sms',
      occurred_at: '2026-11-20T10:00:00Z',
      direction: 'outbound',
      status: 'delivered',
      from_number: '+447700900001',
      to_number: '+447700900002',
    };
    expect(usageRecordKind.check(record).value?.priceMinor).toBeUndefined();
    expect(usageRecordKind.check({ ...record, price_minor: 9 }).value?.priceMinor).toBe(9);
  });

  it(
    'draws the daily chart from the rollups with the figures the records give, ' + 'and from the records when filtered',
    async () => {
      const filter = usageFilterFrom({ from: '2026-10-26', to: today }, today);
      const direct = async (extra: { direction?: string } = {}) =>
        (
          await db('usage_records')
            .where({ tenant_id: tenantId, customer_id: northwind, product: 'sms', ...extra })
            .whereRaw(
              `occurred_at >= (?::date)::timestamp at time zone 'Europe/London'
               and occurred_at < (?::date + 1)::timestamp at time zone 'Europe/London'`,
              [filter.from, filter.to],
            )
            .select(
              db.raw("to_char((occurred_at at time zone 'Europe/London')::date, 'YYYY-MM-DD') as day"),
              db.raw('count(*)::int as records'),
              db.raw('sum(price_minor)::int as spend'),
            )
            .groupByRaw('1')
            .orderByRaw('1')
        ).map((r: { day: string; records: number; spend: number }) => ({
          day: r.day,
          records: r.records,
          spendMinor: r.spend,
        }));
      const fromRollups = await partnerDailyUsage(db, bluewave, northwind, 'sms', filter);
      expect(fromRollups.length).toBeGreaterThan(20);
      expect(fromRollups).toEqual(await direct());
      expect(await partnerDailyUsage(db, bluewave, northwind, 'sms', { ...filter, direction: 'inbound' })).toEqual(
        await direct({ direction: 'inbound' }),
      );
      // the page reads the chart in the same round trip as the log: the same days, the same page
      for (const f of [filter, { ...filter, direction: 'inbound' as const }]) {
        const both = await partnerUsageWithChart(db, bluewave, northwind, 'sms', f);
        expect(both.days).toEqual(await direct(f.direction ? { direction: f.direction } : {}));
        expect(both.log).toEqual(await partnerUsageLog(db, bluewave, northwind, 'sms', f));
      }
    },
  );

  it('builds partner rows with no contact name or content, and the numbers masked', async () => {
    expectTypeOf<PartnerUsageRow>().not.toHaveProperty('contactName');
    expectTypeOf<PartnerUsageRow>().not.toHaveProperty('content');
    expectTypeOf<PartnerUsageRow>().not.toHaveProperty('contact_name');
    const { rows } = await partnerUsageLog(db, bluewave, northwind, 'messaging', usageFilterFrom({}, today));
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(Object.keys(r).sort()).toEqual([
        'currency',
        'direction',
        'directionLabel',
        'durationSeconds',
        'from',
        'id',
        'occurredAt',
        'priceLabel',
        'priceMinor',
        'quantityLabel',
        'status',
        'statusLabel',
        'timeLabel',
        'to',
        'units',
      ]);
      expect(r.from).toMatch(/^••••(\d{4})?$/);
      expect(r.to).toMatch(/^••••(\d{4})?$/);
    }
  });

  it('pages by keyset through the whole period without repeating or skipping a record', async () => {
    const filter = usageFilterFrom({ from: '2026-08-01', size: '100' }, today);
    const seen: string[] = [];
    let after = null;
    for (;;) {
      const page = await partnerUsageLog(db, bluewave, acme, 'voice', { ...filter, after });
      seen.push(...page.rows.map((r) => r.id));
      if (!page.nextCursor) break;
      after = { occurredAt: page.rows.at(-1)!.occurredAt, id: page.rows.at(-1)!.id };
    }
    const expected = await db('usage_records')
      .where({ customer_id: acme, product: 'voice' })
      .where('occurred_at', '>=', '2026-07-31T23:00:00Z')
      .count({ n: '*' })
      .first();
    expect(seen.length).toBe(Number(expected!.n));
    expect(new Set(seen).size).toBe(seen.length);
  });
});

/**
 * Every GET route of the partner view, made concrete for both Bluewave customers and each of their
 * products, with and without filters.
 */
async function partnerUrls(agent: supertest.Agent): Promise<string[]> {
  const templates = listRoutes(app).filter((r) => r.startsWith('GET /partner/'));
  expect(templates.length).toBeGreaterThanOrEqual(4);
  const urls: string[] = [];
  const products: Record<string, string[]> = { [northwind]: ['sms', 'voice', 'messaging'], [acme]: ['sms', 'voice'] };
  for (const t of templates) {
    const path = t.slice(4);
    if (!path.includes(':id')) {
      urls.push(path, `${path}?q=NW`, `${path}?q=7700`);
      continue;
    }
    for (const [customer, list] of Object.entries(products)) {
      const withCustomer = path.replace(':id', customer);
      if (!withCustomer.includes(':product')) {
        urls.push(withCustomer);
        continue;
      }
      for (const product of list) {
        const base = withCustomer.replace(':product', product);
        urls.push(
          base,
          `${base}${base.includes('?') ? '&' : '?'}from=2026-08-26&direction=inbound`,
          `${base}?from=2026-08-26&status=failed&size=100`,
        );
      }
    }
  }
  // a deeper page, by the cursor the first page links to
  const first = await agent.get(`/partner/customers/${northwind}/usage/sms`);
  const next = /href="([^"]+after=[^"]+)"/.exec(first.text)![1]!.replace(/&amp;/g, '&');
  urls.push(next);
  return urls;
}

describe('partner view pages', () => {
  it(
    "never carries a usage record's number (a run of more than four of its digits), " +
      'a contact name or a message text',
    async () => {
      const { agent } = await signedInAgent(app, 'partner@bluewave.test');
      const numbers = (
        await db('usage_records').where({ tenant_id: tenantId }).distinct('from_number').pluck('from_number')
      )
        .concat(await db('usage_records').where({ tenant_id: tenantId }).distinct('to_number').pluck('to_number'))
        .map((n: string) => n.replace(/\D/g, ''));
      const leaks: string[] = [];
      const urls = await partnerUrls(agent);
      for (const url of urls) {
        for (const fragment of [false, true]) {
          const res = fragment ? await agent.get(url).set('HX-Request', 'true') : await agent.get(url);
          expect(res.status, url).toBe(200);
          const body = res.text
            // ids, tokens and cursors are not numbers of a record, and may hold digits by chance
            .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '')
            .replace(/name="_csrf" value="[^"]*"|"X-CSRF-Token": "[^"]*"|after=[A-Za-z0-9_-]+/g, '');
          for (const run of body.match(/\d{5,}/g) ?? [])
            if (numbers.some((n) => n.includes(run))) leaks.push(`${url}: ${run}`);
          for (const secret of [...DEMO_CONTACT_NAMES, ...DEMO_MESSAGE_TEXTS])
            if (body.includes(secret)) leaks.push(`${url}: ${secret}`);
        }
      }
      expect(urls.some((u) => u.endsWith('.csv') || u.includes('.csv?'))).toBe(true);
      expect(leaks).toEqual([]);
    },
  );

  it('exports the filtered log as CSV, masked like the table', async () => {
    const { agent } = await signedInAgent(app, 'partner@bluewave.test');
    const res = await agent.get(
      `/partner/customers/${northwind}/usage/sms.csv?from=2026-11-01&to=2026-11-07&direction=outbound`,
    );
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe(
      'attachment; filename="usage-NW-1001-sms-2026-11-01-to-2026-11-07.csv"',
    );
    const lines = res.text.trim().split('\n');
    expect(lines[0]).toBe('Time (Europe/London),Direction,Status,From,To,Duration (s),Units,Price (GBP)');
    const expected = await db('usage_records')
      .where({ customer_id: northwind, product: 'sms', direction: 'outbound' })
      .where('occurred_at', '>=', '2026-11-01T00:00:00Z')
      .where('occurred_at', '<', '2026-11-08T00:00:00Z')
      .count({ n: '*' })
      .first();
    expect(lines.length - 1).toBe(Number(expected!.n));
    for (const line of lines.slice(1))
      expect(line).toMatch(/^2026-11-0[1-7] \d\d:\d\d:\d\d,Outbound,\w[\w ]*,••••\d{4},••••\d{4},0,[12],0\.0[48]$/);
  });

  it("answers 404 for another reseller's customer, a product not enabled, and its CSV", async () => {
    const other = await otherReseller();
    const agent = supertest.agent(app);
    const login = await agent.get('/login');
    await agent
      .post('/login')
      .type('form')
      .send({ email: other.user.email, password: other.user.password, _csrf: csrfFrom(login.text) });
    expect((await agent.get('/partner/customers')).text).not.toContain('Northwind');
    for (const path of ['', '/usage/sms', '/usage/sms.csv'])
      expect((await agent.get(`/partner/customers/${northwind}${path}`)).status).toBe(404);
    const { agent: mine } = await signedInAgent(app, 'partner@bluewave.test');
    expect((await mine.get(`/partner/customers/${northwind}/usage/video`)).status).toBe(404);
    expect((await mine.get(`/partner/customers/${northwind}/usage/video.csv`)).status).toBe(404);
    expect((await mine.get(`/partner/customers/${demoId('customer:harbor')}`)).status).toBe(404);
  });

  it(
    'shows a partner only the enabled products in the side menu, a chart with its figures, ' + 'and no action button',
    async () => {
      const { agent } = await signedInAgent(app, 'partner@bluewave.test');
      const show = await agent.get(`/partner/customers/${northwind}`);
      const menu = /<nav class="side-menu"[\s\S]*?<\/nav>/.exec(show.text)![0];
      expect([...menu.matchAll(/>([^<>]+)<\/a>/g)].map((m) => m[1])).toEqual([
        'Overview',
        'SMS',
        'Voice',
        'Messaging apps',
      ]);
      const usage = await agent.get(`/partner/customers/${northwind}/usage/voice?from=2026-11-18`);
      expect(usage.text).toContain('<svg class="chart"');
      expect(usage.text.match(/<tr><th scope="row"><time datetime="2026-11-\d\d">/g)).toHaveLength(7);
      expect(usage.text).not.toMatch(/<script(?![^>]*src=)/);
      for (const page of [show.text, usage.text, (await agent.get('/partner/customers')).text]) {
        const posts = [...page.matchAll(/<form[^>]*method="post"[^>]*action="([^"]+)"/g)].map((m) => m[1]);
        expect(posts).toEqual(['/logout']);
      }
    },
  );
});

describe('partners, as staff manage them', () => {
  it(
    'creates a partner, adds a partner viewer with a link to hand over, ' +
      'and assigns a customer that the viewer then sees',
    async () => {
      const { agent, csrf } = await signedInAgent(app, 'admin@demo.test');
      expect((await agent.post('/admin/partners').type('form').send({ _csrf: csrf, name: '' })).status).toBe(422);
      const created = await agent
        .post('/admin/partners')
        .type('form')
        .send({ _csrf: csrf, name: 'Lagoon Telecom Resale' });
      expect(created.status).toBe(303);
      const partnerPath = created.headers.location!;
      const email = `lagoon-${Date.now()}@example.test`;
      const added = await agent
        .post(`${partnerPath}/users`)
        .type('form')
        .send({ _csrf: csrf, name: 'Lee Lagoon', email, activation: 'link' });
      expect(added.status).toBe(201);
      const firstLink = /value="(http[^"]+\/activate\/[^"]+)"/.exec(added.text)![1]!;
      // while pending, the partner page shows a new link (the first stops working) or mails one
      const userId = /\/users\/([0-9a-f-]{36})\/activation-link/.exec((await agent.get(partnerPath)).text)![1]!;
      const again = await agent
        .post(`${partnerPath}/users/${userId}/activation-link`)
        .type('form')
        .send({ _csrf: csrf });
      expect(again.status).toBe(200);
      const link = /value="(http[^"]+\/activate\/[^"]+)"/.exec(again.text)![1]!;
      expect(link).not.toBe(firstLink);
      expect((await supertest(app).get(new URL(firstLink).pathname)).status).toBe(404);
      const harbor = demoId('customer:harbor');
      expect(
        (await agent.post(`${partnerPath}/customers`).type('form').send({ _csrf: csrf, customerId: northwind })).status,
      ).toBe(409);
      expect(
        (await agent.post(`${partnerPath}/customers`).type('form').send({ _csrf: csrf, customerId: harbor })).status,
      ).toBe(303);

      const viewer = supertest.agent(app);
      const token = new URL(link).pathname;
      const form = await viewer.get(token);
      const activated = await viewer
        .post(token)
        .type('form')
        .send({
          _csrf: csrfFrom(form.text),
          password: 'a long lagoon password',
          passwordConfirm: 'a long lagoon password',
        });
      expect(activated.headers.location).toBe('/partner/customers');
      expect(
        (await agent.post(`${partnerPath}/users/${userId}/activation-email`).type('form').send({ _csrf: csrf })).status,
      ).toBe(409);
      const list = await viewer.get('/partner/customers');
      expect(list.text).toContain('Harbor Telecom Users');
      expect(list.text).not.toContain('Northwind');
      expect(
        (await agent.post(`${partnerPath}/customers/${harbor}/delete`).type('form').send({ _csrf: csrf })).status,
      ).toBe(303);
      expect((await viewer.get(`/partner/customers/${harbor}`)).status).toBe(404);
    },
  );

  it("lets a tenant admin set a customer's products and prices, refusing a price that is not one", async () => {
    const { agent, csrf } = await signedInAgent(app, 'admin@demo.test');
    const base = `/admin/customers/${demoId('customer:harbor')}`;
    const smsPrices = async () =>
      (
        await db('price_lists')
          .where({ customer_id: demoId('customer:harbor'), product: 'sms' })
          .orderBy('id')
          .pluck('unit_price_minor')
      ).map(Number);
    const pricesBefore = await smsPrices();
    const page = await agent.get(`${base}/products`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Products and prices');
    const bad = await agent
      .post(`${base}/price-lists`)
      .type('form')
      .send({ _csrf: csrf, product: 'sms', unitPrice: 'cheap', validFrom: '2026-11-01' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Enter a price in EUR');
    expect(
      (
        await agent
          .post(`${base}/price-lists`)
          .type('form')
          .send({ _csrf: csrf, product: 'sms', unitPrice: '0.045', validFrom: '2026-11-01' })
      ).status,
    ).toBe(422);
    expect(
      (
        await agent
          .post(`${base}/price-lists`)
          .type('form')
          .send({ _csrf: csrf, product: 'sms', unitPrice: '0.04', validFrom: '2026-11-01' })
      ).status,
    ).toBe(303);
    // 4 cents kept, and nothing of the two refused
    expect((await smsPrices()).slice(pricesBefore.length)).toEqual([4]);
    expect(
      (
        await agent
          .post(`${base}/products`)
          .type('form')
          .send({ _csrf: csrf, products: ['sms', 'voice'] })
      ).status,
    ).toBe(303);
    expect(
      await db('customer_products')
        .where({ customer_id: demoId('customer:harbor') })
        .orderBy('product')
        .pluck('product'),
    ).toEqual(['sms', 'voice']);
    const rp = await agent
      .post(`${base}/usage-pricing`)
      .type('form')
      .send({ _csrf: csrf, repriceProduct: 'sms', repriceFrom: '2026-11-01', repriceTo: '2026-11-30' });
    expect(rp.status).toBe(303);
  });
});
