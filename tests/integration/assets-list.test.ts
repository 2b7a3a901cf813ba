import http from 'node:http';
import type { AddressInfo } from 'node:net';
import supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { csrfFrom, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeGroup, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { decode } from '../support/forms.js';

const { db } = await testDatabase();
const TODAY = '2026-11-24';
const { app } = testApp({ db, clock: fixedClock(`${TODAY}T09:00:00Z`) });

// ---- a provider whose customer has an inner customer, groups and sub-groups; a rival; another provider ----

const tenant = await makeTenant(db, { name: 'Fleetline Telematics' });
const fleetco = await makeCustomer(db, tenant.id, { title: 'Fleetco' });
const east = await makeCustomer(db, tenant.id, { title: 'Fleetco East', parent_id: fleetco.id });
const rival = await makeCustomer(db, tenant.id, { title: 'Rival Freight' });
const trucks = await makeGroup(db, fleetco, { name: 'Trucks' });
const north = await makeGroup(db, fleetco, { name: 'North', parent: trucks });
const vans = await makeGroup(db, fleetco, { name: 'Vans' });
const depot = await makeGroup(db, east, { name: 'Depot' });
const rivalYard = await makeGroup(db, rival, { name: 'Yard' });

const otherTenant = await makeTenant(db);
const otherCustomer = await makeCustomer(db, otherTenant.id);
const otherGroup = await makeGroup(db, otherCustomer, { name: 'Trucks' });
const foreign = await makeAsset(db, { group: otherGroup }, { identifier: '990000000000001', name: 'Foreign truck' });

type Status = 'inactive' | 'activation_pending' | 'active' | 'deactivation_pending' | 'deactivated';
const made: { identifier: string; status: Status; groupId: string; customerId: string }[] = [];
async function asset(group: typeof trucks, status: Status, fields: Parameters<typeof makeAsset>[2] = {}) {
  const a = await makeAsset(db, { group }, { status, ...fields });
  made.push({ identifier: a.identifier, status, groupId: group.id, customerId: group.customer_id });
  return a;
}
const statuses: Status[] = [
  'active',
  'active',
  'inactive',
  'activation_pending',
  'deactivation_pending',
  'deactivated',
];
for (const [i, s] of statuses.entries()) await asset(trucks, s, { name: `Truck ${i}` });
for (const [i, s] of statuses.slice(0, 3).entries()) await asset(north, s, { name: `North truck ${i}` });
await asset(vans, 'active', { name: 'Blue van' });
await asset(vans, 'activation_pending', { name: 'Red van' });
const hyperlink = await asset(vans, 'active', { name: '=HYPERLINK("http://evil.test","win")' });
await asset(depot, 'active', { name: 'Depot forklift' });
await asset(depot, 'deactivated', { name: 'Old forklift' });
const rivalAsset = await makeAsset(db, { group: rivalYard }, { name: 'Rival truck' });

// renewal states, each on its own active asset in Vans
const renewalDue = await asset(vans, 'active', { name: 'Due van', plan: 'yearly', next_renewal_on: '2026-12-04' });
const renewalLater = await asset(vans, 'active', {
  name: 'Later van',
  plan: 'quarterly',
  next_renewal_on: '2027-02-20',
});
const renewalUnconfirmed = await asset(vans, 'active', {
  name: 'Unconfirmed van',
  plan: 'yearly',
  next_renewal_on: '2027-11-04',
  renewal_unconfirmed: true,
});
const renewalMonthly = await asset(vans, 'active', { name: 'Monthly van', plan: 'monthly' });

await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: fleetco.id },
  { email: 'owner@fleetco.test' },
);
const fleetAdmin = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_admin', customerId: fleetco.id },
  { email: 'fleet@fleetco.test' },
);
const viewer = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_supervisor', customerId: fleetco.id },
  { email: 'viewer@fleetco.test' },
);
for (const m of [fleetAdmin, viewer])
  await db('membership_groups').insert({ tenant_id: tenant.id, membership_id: m.membershipId, group_id: trucks.id });
await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }, { email: 'staff@fleetline.test' });
await makeUser(db, { tenantId: otherTenant.id, role: 'tenant_admin' }, { email: 'staff@other.test' });

async function signIn(email: string) {
  const agent = supertest.agent(app);
  const page = await agent.get('/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send({ email, password: TEST_PASSWORD, _csrf: csrfFrom(page.text) });
  expect(res.status).toBe(303);
  return agent;
}
const ownerAgent = await signIn('owner@fleetco.test');

/** A signed-in session's cookie, for a request made without supertest. */
async function sessionCookie(email: string): Promise<string> {
  const cookiesOf = (res: supertest.Response) =>
    ([] as string[])
      .concat(res.headers['set-cookie'] ?? [])
      .map((c) => c.split(';')[0])
      .join('; ');
  const page = await supertest(app).get('/login');
  const res = await supertest(app)
    .post('/login')
    .set('Cookie', cookiesOf(page))
    .type('form')
    .send({ email, password: TEST_PASSWORD, _csrf: csrfFrom(page.text) });
  expect(res.status).toBe(303);
  return cookiesOf(res);
}

/** The identifiers in the table, in order. */
const identifiers = (html: string) =>
  [...html.matchAll(/<th scope="row">(?:<a href="[^"]+">)?([^<]+)</g)].map((m) => decode(m[1]!));
/** The count shown on a tab's link. */
const tabCount = (html: string, label: string) =>
  Number(new RegExp(`>${label} <span class="count">([\\d,]+)</span>`).exec(html)?.[1]?.replace(/,/g, '') ?? NaN);
const link = (html: string, rel: 'next' | 'prev') => {
  const m = new RegExp(`<a href="([^"]+)" rel="${rel}"`).exec(html);
  return m ? decode(m[1]!) : null;
};
const fleetcoIdentifiers = (pred: (a: (typeof made)[number]) => boolean) =>
  made
    .filter((a) => a.customerId !== rival.id && pred(a))
    .map((a) => a.identifier)
    .sort();

const TABS: [string, string, (s: Status) => boolean][] = [
  ['all', 'All', () => true],
  ['active', 'Active', (s) => s === 'active'],
  ['activation-pending', 'Activation pending', (s) => s === 'activation_pending'],
  ['deactivation-pending', 'Deactivation pending', (s) => s === 'deactivation_pending'],
  ['inactive', 'Inactive', (s) => s === 'inactive' || s === 'deactivated'],
];

describe('the asset list of a company admin', () => {
  it('shows on every tab the assets of that status, and each tab counts exactly those', async () => {
    for (const [tab, label, matches] of TABS) {
      const res = await ownerAgent.get(`/assets?tab=${tab}&size=100`);
      expect(res.status).toBe(200);
      const expected = fleetcoIdentifiers((a) => matches(a.status));
      expect([...identifiers(res.text)].sort(), tab).toEqual(expected);
      expect(tabCount(res.text, label), tab).toBe(expected.length);
      expect(res.text).toMatch(new RegExp(`aria-current="page">${label} <span class="count">`));
    }
  });

  it('moves an asset to its new tab, with the counts, as soon as its status changes', async () => {
    const before = (await ownerAgent.get('/assets')).text;
    const target = made.find((a) => a.status === 'activation_pending' && a.customerId === fleetco.id)!;
    await db('assets').where({ tenant_id: tenant.id, identifier: target.identifier }).update({ status: 'active' });
    try {
      const after = (await ownerAgent.get('/assets')).text;
      expect(tabCount(after, 'Active')).toBe(tabCount(before, 'Active') + 1);
      expect(tabCount(after, 'Activation pending')).toBe(tabCount(before, 'Activation pending') - 1);
      expect(tabCount(after, 'All')).toBe(tabCount(before, 'All'));
      expect(identifiers((await ownerAgent.get('/assets?tab=active&size=100')).text)).toContain(target.identifier);
    } finally {
      await db('assets')
        .where({ tenant_id: tenant.id, identifier: target.identifier })
        .update({ status: 'activation_pending' });
    }
  });

  it(
    'includes the inner customer’s assets and names each asset’s customer, ' +
      'but never another customer’s or provider’s',
    async () => {
      const res = await ownerAgent.get('/assets?size=100');
      const shown = identifiers(res.text);
      expect(shown).toContain(made.find((a) => a.groupId === depot.id)!.identifier);
      expect(shown).not.toContain(rivalAsset.identifier);
      expect(shown).not.toContain(foreign.identifier);
      expect(res.text).toContain('<th scope="col">Customer</th>');
      expect(res.text).toContain('<td>Fleetco East</td>');
      // the group headers name the customer too, since two customers' groups are listed
      expect(res.text).toContain('scope="colgroup">Fleetco East · Depot</th>');
    },
  );

  it(
    'finds assets by identifier, by name and by group path, whatever the case, ' + 'and inside the chosen tab',
    async () => {
      const byIdentifier = await ownerAgent.get(`/assets?q=${hyperlink.identifier.slice(-9)}`);
      expect(identifiers(byIdentifier.text)).toEqual([hyperlink.identifier]);
      const byName = await ownerAgent.get('/assets?q=BLUE%20VAN');
      expect(identifiers(byName.text)).toEqual([made.find((a) => a.groupId === vans.id)!.identifier]);
      const byGroup = await ownerAgent.get('/assets?q=trucks%20/%20north&size=100');
      expect(identifiers(byGroup.text).sort()).toEqual(fleetcoIdentifiers((a) => a.groupId === north.id));
      const inTab = await ownerAgent.get('/assets?tab=activation-pending&q=van');
      expect(identifiers(inTab.text)).toEqual(
        fleetcoIdentifiers((a) => a.groupId === vans.id && a.status === 'activation_pending'),
      );
      expect(inTab.text).toContain('matching “van” in Activation pending');
    },
  );

  it('asks for a longer search term instead of filtering by one character, and says when nothing matches', async () => {
    const short = await ownerAgent.get('/assets?q=v&size=100');
    expect(short.text).toContain('Type at least 2 characters to search.');
    expect(identifiers(short.text)).toHaveLength(fleetcoIdentifiers(() => true).length);
    const none = await ownerAgent.get('/assets?tab=active&q=zeppelin');
    expect(none.text).toContain('No assets match “zeppelin” in Active.');
    expect(none.text).toContain('<a href="/assets?tab=active">Clear the search</a>');
    const wildcard = await ownerAgent.get('/assets?q=%25%25');
    expect(wildcard.text).toContain('No assets match “%%”.');
  });

  it('shows each renewal state with words for screen readers beside its icon', async () => {
    const html = (await ownerAgent.get('/assets?q=van&size=100')).text;
    const cell = (identifier: string) =>
      new RegExp(`${identifier}</a></th>[\\s\\S]*?<td><span class="renewal([\\s\\S]*?)</td>`).exec(html)?.[1] ?? '';
    expect(cell(renewalMonthly.identifier)).toContain(
      '<span class="visually-hidden">Monthly plan, invoiced on the 1st</span>',
    );
    expect(cell(renewalMonthly.identifier)).not.toContain('<time');
    expect(cell(renewalDue.identifier)).toMatch(/aria-hidden="true">.*<\/span>/);
    expect(cell(renewalDue.identifier)).toContain(
      '<span class="visually-hidden">Renews within 4 weeks: </span><time datetime="2026-12-04">4 December 2026</time>',
    );
    expect(cell(renewalLater.identifier)).toContain('<time datetime="2027-02-20">20 February 2027</time>');
    expect(cell(renewalLater.identifier)).not.toContain('aria-hidden');
    expect(cell(renewalUnconfirmed.identifier)).toMatch(/aria-hidden="true">.*<\/span>/);
    expect(cell(renewalUnconfirmed.identifier)).toContain(
      'Renewed automatically: please confirm: </span><time datetime="2027-11-04">',
    );
  });

  it('answers an htmx request with only the list fragment, and says the answer varies by HX-Request', async () => {
    const res = await ownerAgent.get('/assets?tab=active').set('HX-Request', 'true');
    expect(res.status).toBe(200);
    expect(res.headers.vary).toMatch(/HX-Request/i);
    expect(res.text.trimStart().startsWith('<div id="asset-list">')).toBe(true);
    expect(res.text).toMatch(/<div id="asset-table" data-announce="Showing \d+ of [\d,]+ assets in Active\.">/);
    expect(res.text).not.toContain('<html');
    const page = await ownerAgent.get('/assets?tab=active');
    expect(page.headers.vary).toMatch(/HX-Request/i);
    expect(page.text).toContain('<html');
  });
});

// ---- a customer with 25 assets in two groups to page through, and one with a single group ----
const pager = await makeCustomer(db, tenant.id, { title: 'Pager Co' });
const a = await makeGroup(db, pager, { name: 'Alpha' });
const b = await makeGroup(db, pager, { name: 'Bravo' });
const expected: string[] = [];
for (let i = 0; i < 25; i++)
  expected.push(
    (await makeAsset(db, { group: i % 3 ? a : b }, { identifier: `4400000000000${String(i).padStart(2, '0')}` }))
      .identifier,
  );
await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: pager.id }, { email: 'owner@pager.test' });
const single = await makeCustomer(db, tenant.id, { title: 'Single Group Co' });
const only = await makeGroup(db, single, { name: 'Only' });
for (let i = 0; i < 3; i++) await makeAsset(db, { group: only });
await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: single.id },
  { email: 'owner@single.test' },
);

describe('paging through a customer’s assets', () => {
  it('goes forward page by page and back again with no asset repeated or skipped', async () => {
    const agent = await signIn('owner@pager.test');
    const pages: string[][] = [];
    let url: string | null = '/assets?size=10';
    const urls: string[] = [];
    while (url) {
      urls.push(url);
      const res = await agent.get(url);
      pages.push(identifiers(res.text));
      url = link(res.text, 'next');
    }
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    const inOrder = [...expected].sort((x, y) => {
      const gx = Number(x.slice(-2)) % 3 ? 'Alpha' : 'Bravo';
      const gy = Number(y.slice(-2)) % 3 ? 'Alpha' : 'Bravo';
      return gx === gy ? x.localeCompare(y) : gx.localeCompare(gy);
    });
    expect(pages.flat()).toEqual(inOrder);

    // back from the last page: the same pages again, then the first has no way further back
    const last = await agent.get(urls[2]!);
    const second = await agent.get(link(last.text, 'prev')!);
    expect(identifiers(second.text)).toEqual(pages[1]);
    const first = await agent.get(link(second.text, 'prev')!);
    expect(identifiers(first.text)).toEqual(pages[0]);
    expect(link(first.text, 'prev')).toBeNull();
    expect(first.text).not.toContain('>First page</a>');
    expect(second.text).toContain(
      '<a href="/assets?size=10" hx-get="/assets?size=10" hx-target="#asset-list" ' +
        'hx-swap="outerHTML" hx-push-url="true">First page</a>',
    );
  });

  it('heads each group’s rows when the list spans groups, and shows no headers for a single group', async () => {
    const many = await (await signIn('owner@pager.test')).get('/assets');
    // seven columns and the company admin's selection column for bulk actions
    expect(many.text).toContain('<tr class="group-row"><th colspan="8" scope="colgroup">Alpha</th></tr>');
    expect(many.text).toContain('scope="colgroup">Bravo</th>');
    const one = await (await signIn('owner@single.test')).get('/assets');
    expect(identifiers(one.text)).toHaveLength(3);
    expect(one.text).not.toContain('group-row');
    expect(one.text).not.toContain('<th scope="col">Customer</th>');
  });
});

describe('the asset list of group roles', () => {
  it(
    'shows a group admin and a group supervisor only their groups and sub-groups, ' + 'with the matching counts',
    async () => {
      const inTrucks = fleetcoIdentifiers((a) => a.groupId === trucks.id || a.groupId === north.id);
      for (const email of ['fleet@fleetco.test', 'viewer@fleetco.test']) {
        const res = await (await signIn(email)).get('/assets?size=100');
        expect(res.status).toBe(200);
        expect([...identifiers(res.text)].sort(), email).toEqual(inTrucks);
        expect(tabCount(res.text, 'All')).toBe(inTrucks.length);
        expect(tabCount(res.text, 'Inactive')).toBe(
          made.filter(
            (a) =>
              (a.groupId === trucks.id || a.groupId === north.id) && ['inactive', 'deactivated'].includes(a.status),
          ).length,
        );
      }
    },
  );

  it('offers the supervisor no request button', async () => {
    const res = await (await signIn('viewer@fleetco.test')).get('/assets');
    expect(res.text).not.toContain('Request activation');
    expect((await ownerAgent.get('/assets')).text).toContain('Request activation');
  });
});

describe('the provider staff’s view of one customer’s assets', () => {
  it('lists the customer’s assets under its Assets tab, and 404s another provider’s customer', async () => {
    const staff = await signIn('staff@fleetline.test');
    const res = await staff.get(`/admin/customers/${fleetco.id}/assets?size=100`);
    expect(res.status).toBe(200);
    expect([...identifiers(res.text)].sort()).toEqual(fleetcoIdentifiers((a) => a.customerId === fleetco.id));
    expect(res.text).toContain(`<a href="/admin/customers/${fleetco.id}/assets" aria-current="page">Assets</a>`);
    expect((await staff.get(`/admin/customers/${otherCustomer.id}/assets`)).status).toBe(404);
    expect((await staff.get('/assets')).status).toBe(403);
    const csv = await staff.get(`/admin/customers/${fleetco.id}/assets.csv?tab=inactive`);
    expect(csv.status).toBe(200);
    expect(csv.text.trim().split('\n').length - 1).toBe(
      made.filter((a) => a.customerId === fleetco.id && ['inactive', 'deactivated'].includes(a.status)).length,
    );
    const otherStaff = await signIn('staff@other.test');
    expect((await otherStaff.get(`/admin/customers/${fleetco.id}/assets.csv`)).status).toBe(404);
  });
});

/** Rows of a CSV without quoted newlines (ours have none here). */
const csvRows = (text: string) => text.trimEnd().split('\n');

describe('CSV exports', () => {
  it('exports the page with the table’s columns and the page’s rows', async () => {
    const page = await ownerAgent.get('/assets?tab=active&size=10');
    const exportLink = decode(/<a href="([^"]+)">Export this page \(CSV\)<\/a>/.exec(page.text)![1]!);
    expect(exportLink).toBe('/assets.csv?tab=active&size=10&scope=page');
    const csv = await ownerAgent.get(exportLink);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="assets-active-${TODAY}.csv"`);
    const rows = csvRows(csv.text);
    expect(rows[0]).toBe('Identifier,Name,Group,Customer,Status,Plan,Renewal date,Renewal,Last position time (UTC)');
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(identifiers(page.text));

    // the next page's export holds the next page's rows
    const next = await ownerAgent.get(link(page.text, 'next')!);
    const nextCsv = await ownerAgent.get(
      decode(/<a href="([^"]+)">Export this page \(CSV\)<\/a>/.exec(next.text)![1]!),
    );
    expect(
      csvRows(nextCsv.text)
        .slice(1)
        .map((r) => r.split(',')[0]),
    ).toEqual(identifiers(next.text));
  });

  it(
    'streams every asset of the filter, the same cells as the page export, ' + 'numbers unquoted and formulas defused',
    async () => {
      const all = await ownerAgent.get('/assets.csv?q=van');
      expect(all.status).toBe(200);
      expect(all.headers['content-disposition']).toBe(`attachment; filename="assets-all-${TODAY}.csv"`);
      const rows = csvRows(all.text);
      expect(rows[0]).toBe('Identifier,Name,Group,Customer,Status,Plan,Renewal date,Renewal,Last position time (UTC)');
      const vansIds = fleetcoIdentifiers((a) => a.groupId === vans.id);
      expect(
        rows
          .slice(1)
          .map((r) => r.split(',')[0])
          .sort(),
      ).toEqual(vansIds);
      expect(rows.find((r) => r.startsWith(hyperlink.identifier))).toContain(
        `,"'=HYPERLINK(""http://evil.test"",""win"")",`,
      );
      // the page export of the same filter has the same lines, cell for cell
      const page = await ownerAgent.get('/assets.csv?q=van&size=100&scope=page');
      expect(page.text).toBe(all.text);
      const everything = csvRows((await ownerAgent.get('/assets.csv')).text);
      expect(everything).toHaveLength(fleetcoIdentifiers(() => true).length + 1);
      expect(everything.slice(1).every((r) => /^\d{15},/.test(r))).toBe(true); // identifiers as bare digits
      expect(everything.join('\n')).toContain(
        `${renewalDue.identifier},Due van,Vans,Fleetco,Active,Yearly,2026-12-04,Renews within 4 weeks,`,
      );
    },
  );
});

// ---- 200,000 assets, so an export takes long enough to walk away from ----
const big = await makeCustomer(db, tenant.id, { title: 'Bulk Co' });
await db.transaction(async (trx) => {
  // one counter row below instead of 200,000 trigger runs
  await trx.raw('set local session_replication_role = replica');
  await trx.raw(
    `insert into assets (tenant_id, customer_id, identifier, name, status)
     select ?, ?, 'B' || i, 'Bulk ' || i, 'active' from generate_series(1, 200000) i`,
    [tenant.id, big.id],
  );
  await trx.raw(
    `insert into asset_counts (tenant_id, customer_id, group_key, status, n)
     values (?, ?, '00000000-0000-0000-0000-000000000000', 'active', 200000)`,
    [tenant.id, big.id],
  );
});
await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: big.id }, { email: 'owner@bulk.test' });
const server = app.listen(0, '127.0.0.1');
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a streamed export whose client goes away', () => {
  const runningCopies = async () =>
    Number(
      (
        await db.raw<{ rows: { n: number }[] }>(
          "select count(*)::int as n from pg_stat_activity where state = 'active' and query ilike 'copy (%'",
        )
      ).rows[0]!.n,
    );

  it('stops the database query once the download is abandoned', async () => {
    const cookie = await sessionCookie('owner@bulk.test');
    await new Promise<void>((resolve, reject) =>
      server.listening ? resolve() : server.once('listening', resolve).once('error', reject),
    );
    const { port } = server.address() as AddressInfo;
    const firstBytes = await new Promise<{ req: http.ClientRequest; res: http.IncomingMessage }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/assets.csv', headers: { cookie } }, (res) => {
        res.once('data', () => {
          res.pause(); // stop reading: the server and the database are left waiting to send the rest
          resolve({ req, res });
        });
      });
      req.on('error', reject);
    });
    expect(firstBytes.res.statusCode).toBe(200);
    await expect.poll(runningCopies, { timeout: 5000 }).toBe(1);
    firstBytes.req.destroy();
    await expect.poll(runningCopies, { timeout: 5000, interval: 100 }).toBe(0);
  }, 30_000);
});
