import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import {
  makeAsset,
  makeCustomer,
  makeGroup,
  makeSite,
  makeTenant,
  makeUser,
  TEST_PASSWORD,
} from '../support/factories.js';

/**
 * Issue 21: a company admin adds a group admin or supervisor with their groups in the same form, saved in
 * the same transaction as the person, who sees the groups' assets at their first sign-in. Groups of another
 * customer, for another role, or made up are refused on the form and nothing is saved.
 */

const { db } = await testDatabase();
const clock = fixedClock(new Date().toISOString());
const { app } = testApp({ db, clock });
const tenant = await makeTenant(db);
const acme = await makeCustomer(db, tenant.id, { title: 'Acme Freight' });
const rival = await makeCustomer(db, tenant.id, { title: 'Rival Haulage' });
const trucks = await makeGroup(db, acme, { name: 'Trucks' });
const vans = await makeGroup(db, acme, { name: 'Vans' });
const rivalGroup = await makeGroup(db, rival, { name: 'Rival trucks' });
const truck = await makeAsset(db, { group: trucks });
const van = await makeAsset(db, { group: vans });
const owner = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: acme.id });
const staffAdmin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const depot = await makeSite(db, tenant.id, { name: 'Acme depot', customerId: acme.id });
const yard = await makeSite(db, tenant.id, { name: 'Acme yard', customerId: acme.id });
const rivalSite = await makeSite(db, tenant.id, { name: 'Rival yard', customerId: rival.id });

let n = 0;
const form = (fields: Record<string, unknown>) => ({
  name: `New Person ${++n}`,
  email: `new-person-${n}-${Date.now()}@example.test`,
  role: 'group_supervisor',
  activation: 'link',
  customerId: acme.id,
  ...fields,
});
const count = async (table: string) => Number((await db(table).count({ n: '*' }).first())!.n);

describe('adding a user with their groups', () => {
  it('offers the groups on the form, and the person sees those groups’ assets at first sign-in', async () => {
    const { agent, csrf } = await signedInAgent(app, owner.email, TEST_PASSWORD);
    const page = await agent.get('/users/new');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<legend>Groups</legend>');
    expect(page.text).toContain(`value="${trucks.id}"`);
    expect(page.text).not.toContain(rivalGroup.id);

    const fields = form({ group_ids: trucks.id });
    const added = await agent
      .post('/users')
      .type('form')
      .send({ ...fields, _csrf: csrf });
    expect(added.status).toBe(201);
    const link = /\/activate\/([A-Za-z0-9_-]+)/.exec(added.text)![1]!;
    const person = (await db('users').where({ email: fields.email }).first('id')) as { id: string };
    const groups = await db('membership_groups as mg')
      .join('memberships as m', 'm.id', 'mg.membership_id')
      .where('m.user_id', person.id)
      .pluck('mg.group_id');
    expect(groups).toEqual([trucks.id]);
    const entry = await db('audit_log').where({ entity_id: person.id, action: 'user.created' }).first('after');
    expect(entry.after.groups).toEqual(['Trucks']);

    // first sign-in: activation, then the asset list shows Trucks' asset and not Vans'
    const newcomer = supertest.agent(app);
    const activation = await newcomer.get(`/activate/${link}`);
    expect(activation.status).toBe(200);
    const password = 'a long enough passphrase for trucks';
    const done = await newcomer
      .post(`/activate/${link}`)
      .type('form')
      .send({ password, passwordConfirm: password, _csrf: csrfFrom(activation.text) });
    expect(done.status).toBe(303);
    const { agent: signedIn } = await signedInAgent(app, fields.email, password);
    const assets = await signedIn.get('/assets');
    expect(assets.status).toBe(200);
    expect(assets.text).toContain(truck.identifier);
    expect(assets.text).not.toContain(van.identifier);
  });

  it('refuses another customer’s group, a made-up one, and groups for a role without any: nothing saved', async () => {
    const { agent, csrf } = await signedInAgent(app, owner.email, TEST_PASSWORD);
    const before = await Promise.all(['users', 'memberships', 'membership_groups'].map(count));
    const tries = [
      { fields: form({ group_ids: [trucks.id, rivalGroup.id] }), message: 'Choose among this customer' },
      { fields: form({ group_ids: 'not-a-group' }), message: 'Choose among this customer' },
      { fields: form({ group_ids: '00000000-0000-4000-8000-000000000000' }), message: 'Choose among this customer' },
      { fields: form({ role: 'company_admin', group_ids: trucks.id }), message: 'Only group admins and group' },
      {
        fields: form({ role: 'site_viewer', group_ids: [trucks.id, vans.id] }),
        message: 'Only group admins and group',
      },
    ];
    for (const { fields, message } of tries) {
      const res = await agent
        .post('/users')
        .type('form')
        .send({ ...fields, _csrf: csrf });
      expect(res.status, JSON.stringify(fields)).toBe(422);
      expect(res.text).toContain(message);
      // nothing typed is lost: the name and the ticked groups come back
      expect(res.text).toContain(fields.name);
    }
    expect(await Promise.all(['users', 'memberships', 'membership_groups'].map(count))).toEqual(before);
  });

  it('keeps the ticked groups when another field is wrong', async () => {
    const { agent, csrf } = await signedInAgent(app, owner.email, TEST_PASSWORD);
    const res = await agent
      .post('/users')
      .type('form')
      .send({ ...form({ email: 'not an email', group_ids: [vans.id] }), _csrf: csrf });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(new RegExp(`value="${vans.id}" checked`));
    expect(res.text).not.toMatch(new RegExp(`value="${trucks.id}" checked`));
  });
});

describe('staff adding a site viewer with their sites', () => {
  it('offers the customer’s sites on the staff form and saves the ticked ones with the person', async () => {
    const { agent, csrf } = await signedInAgent(app, staffAdmin.email, TEST_PASSWORD);
    const page = await agent.get(`/admin/customers/${acme.id}/users/new`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<legend>Sites</legend>');
    expect(page.text).toContain(`value="${depot.id}"`);
    expect(page.text).not.toContain(rivalSite.id);
    const fields = form({ role: 'site_viewer', site_ids: [depot.id, yard.id] });
    const { customerId: _c, ...body } = fields;
    const added = await agent
      .post(`/admin/customers/${acme.id}/users`)
      .type('form')
      .send({ ...body, _csrf: csrf });
    expect(added.status).toBe(201);
    const person = (await db('users').where({ email: fields.email }).first('id')) as { id: string };
    const sites = await db('membership_sites as ms')
      .join('memberships as m', 'm.id', 'ms.membership_id')
      .where('m.user_id', person.id)
      .orderBy('ms.site_id')
      .pluck('ms.site_id');
    expect(sites).toEqual([depot.id, yard.id].sort());
  });

  it('refuses another customer’s site and sites for other roles; and a company admin gives none', async () => {
    const staff = await signedInAgent(app, staffAdmin.email, TEST_PASSWORD);
    const before = await Promise.all(['users', 'memberships', 'membership_sites'].map(count));
    for (const [fields, message] of [
      [form({ role: 'site_viewer', site_ids: [depot.id, rivalSite.id] }), 'Choose among this customer’s sites'],
      [form({ role: 'group_admin', site_ids: depot.id }), 'Only site viewers are given sites.'],
    ] as const) {
      const res = await staff.agent
        .post(`/admin/customers/${acme.id}/users`)
        .type('form')
        .send({ ...fields, _csrf: staff.csrf });
      expect(res.status).toBe(422);
      expect(res.text.replaceAll('&#39;', '’').replaceAll("'", '’')).toContain(message);
    }
    expect(await Promise.all(['users', 'memberships', 'membership_sites'].map(count))).toEqual(before);
    // a company admin's form has no sites: sites sent anyway are not read, and the person sees none
    const admin = await signedInAgent(app, owner.email, TEST_PASSWORD);
    const fields = form({ role: 'site_viewer', site_ids: depot.id });
    const res = await admin.agent
      .post('/users')
      .type('form')
      .send({ ...fields, _csrf: admin.csrf });
    expect(res.status).toBe(201);
    const given = await db('membership_sites as ms')
      .join('memberships as m', 'm.id', 'ms.membership_id')
      .join('users as u', 'u.id', 'm.user_id')
      .where('u.email', fields.email)
      .count({ n: '*' })
      .first();
    expect(Number(given!.n)).toBe(0);
  });
});
