import { describe, expect, it } from 'vitest';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const { app } = testApp({ db });
const provider = await makeTenant(db, { name: 'First Provider' });
const second = await makeTenant(db, { name: 'Second Provider' });
const customer = await makeCustomer(db, provider.id, { title: 'Harbour Freight' });
const secondCustomer = await makeCustomer(db, second.id, { title: 'Only In Second' });
// one person: company admin at a customer of the first provider, and staff of the second
const person = await makeUser(
  db,
  { tenantId: provider.id, role: 'company_admin', customerId: customer.id },
  { name: 'Two Hats' },
);
const [staff] = await db('memberships')
  .insert({ tenant_id: second.id, user_id: person.id, role: 'tenant_admin' })
  .returning('id');
const staffMembership = (staff as { id: string }).id;
const stranger = await makeUser(db, { tenantId: second.id, role: 'tenant_admin' });

describe('switching roles', () => {
  it('offers a person with two roles to switch, and the other role then decides what they see', async () => {
    const { agent, csrf } = await signedInAgent(app, person.email, TEST_PASSWORD);
    const sessionIds = (): Promise<string[]> => db('session').where({ user_id: person.id }).pluck('sid');
    const before = await sessionIds();
    const home = await agent.get('/settings');
    expect(home.text).toContain('Switch role');
    const page = await agent.get('/session/membership');
    expect(page.text).toContain('Company admin</strong> of Harbour Freight');
    expect(page.text).toContain('Tenant admin</strong> of Second Provider');

    const res = await agent
      .post('/session/membership')
      .type('form')
      .send({ membership_id: staffMembership, _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/customers');
    // a new session id for the new privileges: this session's id is gone, another took its place
    const after = await sessionIds();
    expect(before.filter((sid) => !after.includes(sid))).toHaveLength(1);
    expect(after.filter((sid) => !before.includes(sid))).toHaveLength(1);
    const [, issued] = /portico\.sid=s%3A([^.;]+)\./.exec(String(res.headers['set-cookie'])) ?? [];
    expect(after).toContain(issued);
    expect(before).not.toContain(issued);
    const customers = await agent.get('/admin/customers');
    expect(customers.status).toBe(200);
    expect(customers.text).toContain(secondCustomer.title);
    expect(customers.text).toContain('You now act as Second Provider');
    expect((await agent.get('/assets')).status).toBe(403);
  });

  it("refuses someone else's membership with 404 and keeps the current role", async () => {
    const { agent, csrf } = await signedInAgent(app, person.email, TEST_PASSWORD);
    const theirs = await db('memberships').where({ user_id: stranger.id }).first('id');
    const res = await agent.post('/session/membership').type('form').send({ membership_id: theirs.id, _csrf: csrf });
    expect(res.status).toBe(404);
    expect((await agent.get('/admin/customers')).status).toBe(403);
    expect((await agent.get('/assets')).status).toBe(200);
  });

  it('shows no switch to a person with one role', async () => {
    const { agent } = await signedInAgent(app, stranger.email, TEST_PASSWORD);
    expect((await agent.get('/settings')).text).not.toContain('Switch role');
  });
});
