import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeGroup, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const clock = fixedClock('2026-11-24T10:00:00Z');
await seedDemo(db, { now: clock.now() });
const { app } = testApp({ db, clock });
const tenantId = demoId('tenant:demo');
const northwindIds = [demoId('customer:northwind'), demoId('customer:northwind-south')];

const countOf = async (q: ReturnType<typeof db>) => Number((await q.count({ n: '*' }).first())!.n);
const cardNumber = (html: string, label: string) =>
  Number(new RegExp(`<strong>([\\d,]+)</strong> ${label}`).exec(html)![1]!.replace(/,/g, ''));

describe('a customer home page', () => {
  it('shows a company admin their assets by state across inner customers, with links to each tab', async () => {
    const { agent } = await signedInAgent(app, 'owner@northwind.test');
    const page = await agent.get('/');
    expect(page.status).toBe(200);
    const active = await countOf(
      db('assets').where({ tenant_id: tenantId, status: 'active' }).whereIn('customer_id', northwindIds),
    );
    const all = await countOf(db('assets').where({ tenant_id: tenantId }).whereIn('customer_id', northwindIds));
    expect(cardNumber(page.text, 'active')).toBe(active);
    expect(cardNumber(page.text, 'in all')).toBe(all);
    expect(page.text).toContain('href="/assets?tab=deactivation-pending"');
    expect(page.text).toContain('Request activation');
  });

  it('says how many subscriptions renew within four weeks, counted the way the renewal column warns', async () => {
    const { agent } = await signedInAgent(app, 'owner@northwind.test');
    const due = await countOf(
      db('assets')
        .where({ tenant_id: tenantId, status: 'active' })
        .whereNot('plan', 'monthly')
        .whereIn('customer_id', northwindIds)
        .whereBetween('next_renewal_on', ['2026-11-24', '2026-12-22']),
    );
    expect(due).toBeGreaterThan(0);
    expect((await agent.get('/')).text).toContain(
      `<strong>${due}</strong> yearly or quarterly subscriptions renew within the next 4 weeks`,
    );
  });

  it('shows a group supervisor only their groups’ assets and no request button', async () => {
    const { agent } = await signedInAgent(app, 'viewer@northwind.test');
    const page = await agent.get('/');
    const trucks = [demoId('group:trucks'), demoId('group:trucks-north'), demoId('group:trucks-south')];
    expect(cardNumber(page.text, 'in all')).toBe(
      await countOf(db('assets').where({ tenant_id: tenantId }).whereIn('group_id', trucks)),
    );
    expect(page.text).not.toContain('Request activation');
  });
});

describe('the home page the customer chose', () => {
  const person = async (homePage: string, role: 'company_admin' | 'group_admin' | 'group_supervisor') => {
    const customer = await makeCustomer(db, tenantId);
    await db('customers').where({ tenant_id: tenantId, id: customer.id }).update({ home_page: homePage });
    const user = await makeUser(db, { tenantId, role, customerId: customer.id });
    if (role !== 'company_admin') {
      const group = await makeGroup(db, customer);
      await db('membership_groups').insert({
        tenant_id: tenantId,
        membership_id: user.membershipId,
        group_id: group.id,
      });
    }
    return signedInAgent(app, user.email, TEST_PASSWORD);
  };

  it('sends a customer whose home page is "assets" to /assets after sign-in and from /', async () => {
    const { agent, landing } = await person('assets', 'company_admin');
    expect(landing).toBe('/');
    const home = await agent.get('/');
    expect(home.status).toBe(303);
    expect(home.headers.location).toBe('/assets');
    expect((await agent.get('/').redirects(1)).text).toContain('<h1>Assets</h1>');
  });

  it('sends people to groups, tickets or billing when chosen, within what their role may open', async () => {
    expect((await (await person('groups', 'group_admin')).agent.get('/')).headers.location).toBe('/groups');
    expect((await (await person('tickets', 'group_supervisor')).agent.get('/')).headers.location).toBe('/tickets');
    expect((await (await person('billing', 'company_admin')).agent.get('/')).headers.location).toBe('/billing');
    // billing is the company admin's: a group admin of the same choice gets the summary
    const groupAdmin = await (await person('billing', 'group_admin')).agent.get('/');
    expect(groupAdmin.status).toBe(200);
    // sites are the site viewers' own page; others of that customer get the summary
    expect((await (await person('sites', 'company_admin')).agent.get('/')).status).toBe(200);
  });

  it('shows the summary on / when the customer chose it', async () => {
    const page = await (await person('summary', 'company_admin')).agent.get('/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h2 id="home-assets">Your assets</h2>');
  });
});
