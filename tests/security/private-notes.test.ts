import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { DEMO_PRIVATE_NOTE } from '../../src/demo/billing.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { listRoutes } from '../support/routes.js';

/**
 * Private notes are for staff: no answer to a customer user may carry one. Every route of the app
 * is visited, as a full page and as an htmx fragment, by each kind of customer user (and a
 * partner), with the ids of demo records whose contacts carry the demo's private note.
 */
const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db, clock: fixedClock('2026-11-24T09:00:00Z') });
const tenantId = demoId('tenant:demo');
const truck = (await db('assets')
  .where({ tenant_id: tenantId, group_id: demoId('group:trucks') })
  .orderBy('identifier')
  .first('id', 'identifier')) as { id: string; identifier: string };
const CUSTOMER_LOGINS = [
  'owner@northwind.test',
  'fleet@northwind.test',
  'viewer@northwind.test',
  'sites@northwind.test',
  'partner@bluewave.test',
];

function concrete(path: string): string {
  return path
    .replace('/assets/by-identifier/:identifier', `/assets/by-identifier/${truck.identifier}`)
    .replace(':userId', demoId('user:owner@northwind.test'))
    .replace('/users/:id', `/users/${demoId('user:owner@northwind.test')}`)
    .replace('/groups/:id', `/groups/${demoId('group:trucks')}`)
    .replace('/assets/:id', `/assets/${truck.id}`)
    .replace('/admin/customers/:id', `/admin/customers/${demoId('customer:northwind')}`)
    .replace('/partner/customers/:id', `/partner/customers/${demoId('customer:northwind')}`)
    .replace(':product', 'voice')
    .replace('/tickets/:id', `/tickets/${demoId('ticket:no-position')}`)
    .replace(/:token\b/, 'x'.repeat(43))
    .replace(/:[a-zA-Z]+\b/g, '1');
}

describe('private notes of contacts', () => {
  it('are in the demo, on the staff Billing tab', async () => {
    const admin = await signedInAgent(app, 'admin@demo.test');
    const tab = await admin.agent.get(`/admin/customers/${demoId('customer:northwind')}/billing`);
    expect(tab.text).toContain(DEMO_PRIVATE_NOTE);
  });

  it('never appear in any response to a customer user, on any route', async () => {
    const routes = listRoutes(app).filter((r) => !r.endsWith(' /logout') && !r.startsWith('POST /password/new'));
    const leaks: string[] = [];
    let visits = 0;
    for (const email of CUSTOMER_LOGINS) {
      const who = await signedInAgent(app, email);
      for (const route of routes) {
        const [method, template] = route.split(' ') as [string, string];
        const path = concrete(template);
        for (const htmx of [false, true]) {
          const req =
            method === 'GET' ? who.agent.get(path) : who.agent.post(path).type('form').send({ _csrf: who.csrf });
          if (htmx) req.set('HX-Request', 'true');
          const res = await req.redirects(2);
          visits++;
          if (res.text?.includes(DEMO_PRIVATE_NOTE) || res.text?.includes('Private:'))
            leaks.push(`${route}${htmx ? ' (htmx)' : ''} as ${email}`);
        }
      }
    }
    expect(visits).toBeGreaterThan(500);
    expect(leaks).toEqual([]);
  }, 240_000);
});
