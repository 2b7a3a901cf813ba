import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

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
        .where({ tenant_id: tenantId, status: 'active', renewal_unconfirmed: false })
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
