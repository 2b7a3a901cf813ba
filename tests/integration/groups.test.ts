import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { loadActor } from '../../src/services/people/sign-in.js';
import { listGroups } from '../../src/services/groups/groups.js';
import type { Actor } from '../../src/services/access/index.js';
import { addDays } from '../../src/services/assets/subscription-rules.js';
import { csrfFrom, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeGroup, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const TODAY = '2026-11-24';
const clock = fixedClock(`${TODAY}T09:00:00Z`);
// no tile server in tests: the map draws its markers on a blank canvas
const { app } = testApp({ db, clock, env: { MAP_TILE_URL: 'none' } });

// ---- a provider's customer with groups three levels deep, an inner customer, a rival, another provider ----

const tenant = await makeTenant(db, { name: 'Fleetline Telematics' });
const fleetco = await makeCustomer(db, tenant.id, { title: 'Fleetco' });
await db('customers').where({ id: fleetco.id }).update({ map_enabled: true });
const east = await makeCustomer(db, tenant.id, { title: 'Fleetco East', parent_id: fleetco.id });
const rival = await makeCustomer(db, tenant.id, { title: 'Rival Freight' });
const trucks = await makeGroup(db, fleetco, { name: 'Trucks', reference: 'CC-100' });
const north = await makeGroup(db, fleetco, { name: 'North', parent: trucks });
const hills = await makeGroup(db, fleetco, { name: 'Hills', parent: north });
const south = await makeGroup(db, fleetco, { name: 'South', parent: trucks });
const vans = await makeGroup(db, fleetco, { name: 'Vans' });
const depot = await makeGroup(db, east, { name: 'Depot' });
const yard = await makeGroup(db, rival, { name: 'Yard' });
const otherTenant = await makeTenant(db);
const otherGroup = await makeGroup(db, await makeCustomer(db, otherTenant.id), { name: 'Trucks' });

const day = (n: number) => addDays(TODAY, n);
const located = (i: number) => ({
  last_latitude: 51.5 + i / 100,
  last_longitude: -0.1 - i / 100,
  last_located_at: new Date(`${TODAY}T0${i}:30:00Z`),
});
// due within 28 days (today and today + 28 both count) and the ones that do not
await makeAsset(db, { group: trucks }, { name: 'Edge truck', plan: 'yearly', next_renewal_on: day(28), ...located(1) });
await makeAsset(db, { group: trucks }, { name: 'Idle truck', status: 'inactive' });
await makeAsset(
  db,
  { group: north },
  { name: 'Today truck', plan: 'quarterly', next_renewal_on: day(0), ...located(2) },
);
await makeAsset(db, { group: north }, { name: 'Late truck', plan: 'yearly', next_renewal_on: day(29) });
await makeAsset(db, { group: hills }, { name: 'Hill truck', plan: 'yearly', next_renewal_on: day(5), ...located(3) });
await makeAsset(
  db,
  { group: hills },
  { name: 'Unconfirmed truck', plan: 'yearly', next_renewal_on: day(3), renewal_unconfirmed: true },
);
await makeAsset(
  db,
  { group: south },
  { name: 'Leaving truck', status: 'deactivation_pending', plan: 'yearly', next_renewal_on: day(2), ...located(4) },
);
await makeAsset(db, { group: vans }, { name: 'Parked van', status: 'inactive' });
await makeAsset(db, { group: depot }, { name: 'Forklift', ...located(5) });
await makeAsset(db, { group: yard }, { name: 'Rival truck', ...located(6) });

const owner = await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: fleetco.id },
  { email: 'owner@fleetco.test', name: 'Olga Owner' },
);
const fleetAdmin = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_admin', customerId: fleetco.id },
  { email: 'fleet@fleetco.test', name: 'Finn Fleet' },
);
const viewer = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_supervisor', customerId: fleetco.id },
  { email: 'viewer@fleetco.test', name: 'Vera Viewer' },
);
await db('membership_groups').insert([
  { tenant_id: tenant.id, membership_id: fleetAdmin.membershipId, group_id: north.id },
  { tenant_id: tenant.id, membership_id: viewer.membershipId, group_id: trucks.id },
]);
const pending = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_supervisor', customerId: fleetco.id },
  { email: 'pia@fleetco.test', name: 'Pia Pending', status: 'pending', password_hash: null },
);
const disabled = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_admin', customerId: fleetco.id },
  { email: 'dora@fleetco.test', name: 'Dora Disabled', status: 'disabled' },
);
const siteViewer = await makeUser(
  db,
  { tenantId: tenant.id, role: 'site_viewer', customerId: fleetco.id },
  { email: 'sam@fleetco.test', name: 'Sam Sites' },
);
const eastAdmin = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_admin', customerId: east.id },
  { email: 'ed@east.test', name: 'Ed East' },
);
const rivalAdmin = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_admin', customerId: rival.id },
  { email: 'rex@rival.test', name: 'Rex Rival' },
);
const otherOwner = await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: fleetco.id },
  { email: 'cora@fleetco.test', name: 'Cora Admin' },
);
const staff = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }, { email: 'staff@fleetline.test' });

async function signIn(email: string, useApp = app) {
  const agent = supertest.agent(useApp);
  const page = await agent.get('/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send({ email, password: TEST_PASSWORD, _csrf: csrfFrom(page.text) });
  expect(res.status).toBe(303);
  const csrf = csrfFrom((await agent.get('/settings')).text);
  return { agent, csrf };
}

async function actorOf(user: { id: string; membershipId: string }): Promise<Actor> {
  return (await loadActor(db, user.id, user.membershipId))!;
}

/** The text of each group's row on the Groups page: path → cells. */
function rowsOf(html: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  const table = /<table class="group-table">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
  for (const tr of table.split('<tr>').slice(2)) {
    const cells = [...tr.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((m) =>
      m[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    );
    rows.set(cells[0]!, cells.slice(1));
  }
  return rows;
}

const assignedTo = async (groupId: string) =>
  ((await db('membership_groups').where({ group_id: groupId }).select('membership_id')) as { membership_id: string }[])
    .map((r) => r.membership_id)
    .sort();

describe('who sees which groups', () => {
  it('shows a company admin every group of their customer and its inner customer, never a rival’s', async () => {
    const { agent } = await signIn(owner.email);
    const page = await agent.get('/groups');
    expect(page.status).toBe(200);
    expect([...rowsOf(page.text).keys()]).toEqual([
      'Trucks',
      'Trucks / North',
      'Trucks / North / Hills',
      'Trucks / South',
      'Vans',
      'Depot',
    ]);
    expect((await agent.get(`/groups/${yard.id}`)).status).toBe(404);
    expect((await agent.get(`/groups/${otherGroup.id}`)).status).toBe(404);
    expect((await agent.get('/groups/not-a-group')).status).toBe(404);
  });

  it(
    'shows a group admin their group and the sub-groups below it, three levels down, ' +
      'and nothing above or beside it',
    async () => {
      const { agent } = await signIn(fleetAdmin.email);
      const page = await agent.get('/groups');
      expect([...rowsOf(page.text).keys()]).toEqual(['Trucks / North', 'Trucks / North / Hills']);
      expect((await agent.get(`/groups/${hills.id}`)).status).toBe(200);
      for (const g of [trucks, south, vans, depot]) expect((await agent.get(`/groups/${g.id}`)).status).toBe(404);
    },
  );

  it('shows a group supervisor of the top group all three levels below it, but not the other groups', async () => {
    const { agent } = await signIn(viewer.email);
    expect([...rowsOf((await agent.get('/groups')).text).keys()]).toEqual([
      'Trucks',
      'Trucks / North',
      'Trucks / North / Hills',
      'Trucks / South',
    ]);
    const hillsPage = await agent.get(`/groups/${hills.id}`);
    expect(hillsPage.text).toContain('Hill truck');
    // breadcrumbs climb to the top group they reach
    expect(hillsPage.text).toMatch(/<a href="\/groups\/[^"]+">Trucks<\/a> › <a href="\/groups\/[^"]+">North<\/a>/);
    expect((await agent.get(`/groups/${vans.id}`)).status).toBe(404);
  });

  it('turns away staff and site viewers from the Groups page', async () => {
    expect((await (await signIn(staff.email)).agent.get('/groups')).status).toBe(403);
    expect((await (await signIn(siteViewer.email)).agent.get('/groups')).status).toBe(403);
  });
});

describe('the groups list', () => {
  it('counts active assets of each group with its sub-groups, and lists only those with one under Active', async () => {
    const { agent } = await signIn(owner.email);
    const all = rowsOf((await agent.get('/groups')).text);
    // Group | Customer | Reference | Status | Active | Due | Sub-groups | actions
    expect(all.get('Trucks')!.slice(0, 6)).toEqual(['Fleetco', 'CC-100', 'Enabled', '5', '4', '2']);
    expect(all.get('Trucks / North')!.slice(3, 6)).toEqual(['4', '3', '1']);
    expect(all.get('Vans')!.slice(3, 6)).toEqual(['0', '0', '0']);
    const active = await agent.get('/groups?tab=active');
    expect([...rowsOf(active.text).keys()]).toEqual(['Trucks', 'Trucks / North', 'Trucks / North / Hills', 'Depot']);
    expect(active.text).toMatch(/All <span class="count">6<\/span>/);
    expect(active.text).toMatch(/Active <span class="count">4<\/span>/);
  });

  it('answers htmx with the list alone, so the tabs swap in place', async () => {
    const { agent } = await signIn(owner.email);
    const res = await agent.get('/groups?tab=active').set('HX-Request', 'true');
    expect(res.text.trim().startsWith('<div id="group-list">')).toBe(true);
    expect(res.text).not.toContain('<html');
  });

  it('counts renewals due from today to today + 28 days, both included, and moves with the clock', async () => {
    const actor = await actorOf(owner);
    const due = async (today: string) =>
      new Map(
        (await listGroups(db, actor, { tab: 'all', page: 1, size: 25 }, today)).rows.map((r) => [r.path, r.dueSoon]),
      );
    // today: Edge truck (+28), Today truck (+0), Hill truck (+5), the unconfirmed one (+3, DESIGN section 10
    // counts it); not Late truck (+29) or the leaving one
    expect(Object.fromEntries(await due(TODAY))).toMatchObject({
      Trucks: 4,
      'Trucks / North': 3,
      'Trucks / North / Hills': 2,
      'Trucks / South': 0,
    });
    // a day later: Today truck is past, Late truck is now exactly 28 days away
    expect(Object.fromEntries(await due(day(1)))).toMatchObject({
      Trucks: 4,
      'Trucks / North': 3,
      'Trucks / North / Hills': 2,
    });
    // 29 days later only Late truck's day is left, at +0
    expect(Object.fromEntries(await due(day(29)))).toMatchObject({
      Trucks: 1,
      'Trucks / North': 1,
      'Trucks / North / Hills': 0,
    });
    expect((await due(day(28))).get('Trucks')).toBe(2);
  });

  it("links a group's due count to exactly its assets due for renewal; the list keeps tab and search", async () => {
    const { agent } = await signIn(owner.email);
    const list = await agent.get('/groups');
    expect(list.text).toContain(`href="/groups/${trucks.id}?due=28d#assets"`);
    const page = await agent.get(`/groups/${trucks.id}?due=28d`);
    expect(page.status).toBe(200);
    const names = [...page.text.matchAll(/<td>((?:Edge|Today|Late|Hill|Unconfirmed|Leaving|Idle) truck)<\/td>/g)].map(
      (m) => m[1],
    );
    expect(names.sort()).toEqual(['Edge truck', 'Hill truck', 'Today truck', 'Unconfirmed truck']);
    const searched = await agent.get(`/groups/${trucks.id}?due=28d&q=edge`);
    expect([...searched.text.matchAll(/<td>(\w+ truck)<\/td>/g)].map((m) => m[1])).toEqual(['Edge truck']);
    const assets = await agent.get('/assets?due=28d&tab=active');
    expect(assets.text).toContain('Due for renewal');
    expect(assets.text).toContain('Unconfirmed truck');
    expect(assets.text).not.toContain('Late truck');
    const csv = await agent.get('/assets.csv?due=28d');
    expect(csv.text).toContain('Edge truck');
    expect(csv.text).not.toContain('Late truck');
  });

  it('shows a group admin no create, edit or map controls they may not use, but the map where it is on', async () => {
    const { agent } = await signIn(fleetAdmin.email);
    const page = await agent.get('/groups');
    expect(page.text).not.toContain('Create group');
    expect(page.text).not.toContain('/edit"');
    expect(page.text).toContain(`/groups/${north.id}/map`);
  });
});

describe('creating and editing groups', () => {
  it('creates a top-level group and a sub-group, with its path, and audits both', async () => {
    const { agent, csrf } = await signIn(owner.email);
    const created = await agent.post('/groups').type('form').send({ _csrf: csrf, name: 'Trailers', reference: 'TR-1' });
    expect(created.status).toBe(303);
    const trailers = (await db('groups').where({ customer_id: fleetco.id, name: 'Trailers' }).first())!;
    expect(created.headers.location).toBe(`/groups/${trailers.id}`);
    expect(trailers).toMatchObject({ path: 'Trailers', reference: 'TR-1', enabled: true, parent_id: null });
    const sub = await agent
      .post('/groups')
      .type('form')
      .send({ _csrf: csrf, name: 'Flatbeds', parent_id: trailers.id });
    expect(sub.status).toBe(303);
    expect((await db('groups').where({ parent_id: trailers.id }).first())!.path).toBe('Trailers / Flatbeds');
    const page = await agent.get(sub.headers.location!);
    expect(page.text).toContain('Group Trailers / Flatbeds created.');
    const audits = await db('audit_log')
      .where({ entity_type: 'group', action: 'group.created', customer_id: fleetco.id })
      .select('after');
    expect(audits.map((a: { after: { path: string } }) => a.after.path).sort()).toEqual([
      'Trailers',
      'Trailers / Flatbeds',
    ]);
  });

  it('creates a group in an inner customer when asked, and refuses a customer out of reach', async () => {
    const { agent, csrf } = await signIn(owner.email);
    expect(
      (await agent.post('/groups').type('form').send({ _csrf: csrf, name: 'Yard East', customer_id: east.id })).status,
    ).toBe(303);
    expect(await db('groups').where({ customer_id: east.id, name: 'Yard East' }).first()).toBeTruthy();
    const refused = await agent
      .post('/groups')
      .type('form')
      .send({ _csrf: csrf, name: 'Sneaky', customer_id: rival.id });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('Choose a customer from the list.');
  });

  it(
    'keeps what was typed and says what is wrong: no name, a name taken at that place, ' + 'a parent out of reach',
    async () => {
      const { agent, csrf } = await signIn(owner.email);
      const empty = await agent.post('/groups').type('form').send({ _csrf: csrf, name: '  ', reference: 'KEEP-ME' });
      expect(empty.status).toBe(422);
      expect(empty.text).toContain('Enter a name for the group.');
      expect(empty.text).toContain('value="KEEP-ME"');
      const taken = await agent.post('/groups').type('form').send({ _csrf: csrf, name: 'north', parent_id: trucks.id });
      expect(taken.status).toBe(422);
      expect(taken.text).toContain('There is already a group with this name here.');
      const foreignParent = await agent
        .post('/groups')
        .type('form')
        .send({ _csrf: csrf, name: 'Spur', parent_id: yard.id });
      expect(foreignParent.status).toBe(422);
      expect(foreignParent.text).toContain('Choose a parent group from the list, or none.');
      expect(await db('groups').where({ name: 'Spur' }).first()).toBeUndefined();
    },
  );

  it(
    'refuses to move a group under one of its own sub-groups, with the reason next to the field, ' +
      'and changes nothing',
    async () => {
      const { agent, csrf } = await signIn(owner.email);
      const res = await agent
        .post(`/groups/${trucks.id}`)
        .type('form')
        .send({ _csrf: csrf, name: 'Trucks', reference: 'CC-100', parent_id: hills.id, enabled: 'on' });
      expect(res.status).toBe(422);
      expect(res.text).toContain('A group cannot be moved under itself or one of its own sub-groups.');
      expect(res.text).toContain('aria-invalid="true"');
      const itself = await agent
        .post(`/groups/${trucks.id}`)
        .type('form')
        .send({ _csrf: csrf, name: 'Trucks', parent_id: trucks.id, enabled: 'on' });
      expect(itself.status).toBe(422);
      expect((await db('groups').where({ id: trucks.id }).first())!.parent_id).toBeNull();
      // the edit form does not even offer them
      const form = await agent.get(`/groups/${trucks.id}/edit`);
      expect(form.text).not.toContain(`value="${hills.id}"`);
      expect(form.text).toContain(`value="${vans.id}"`);
    },
  );

  it(
    'renames a group and rewrites the paths of its sub-groups and of all their assets, ' + 'in one audited change',
    async () => {
      const { agent, csrf } = await signIn(owner.email);
      const res = await agent
        .post(`/groups/${trucks.id}`)
        .type('form')
        .send({ _csrf: csrf, name: 'Lorries', reference: 'CC-100', enabled: 'on' });
      expect(res.status).toBe(303);
      const paths = Object.fromEntries(
        (
          (await db('groups').whereIn('id', [trucks.id, north.id, hills.id, south.id]).select('id', 'path')) as {
            id: string;
            path: string;
          }[]
        ).map((g) => [g.id, g.path]),
      );
      expect(paths).toEqual({
        [trucks.id]: 'Lorries',
        [north.id]: 'Lorries / North',
        [hills.id]: 'Lorries / North / Hills',
        [south.id]: 'Lorries / South',
      });
      const assetPaths = (
        await db('assets')
          .whereIn('group_id', [trucks.id, north.id, hills.id, south.id])
          .distinct('group_path')
          .orderBy('group_path')
      ).map((r: { group_path: string }) => r.group_path);
      expect(assetPaths).toEqual(['Lorries', 'Lorries / North', 'Lorries / North / Hills', 'Lorries / South']);
      // the search text follows (a generated column)
      expect((await db('assets').where({ name: 'Hill truck' }).first())!.search_text).toContain(
        'lorries / north / hills',
      );
      expect((await agent.get(res.headers.location!)).text).toContain('7 assets now show the new path.');
      const entry = await db('audit_log').where({ entity_id: trucks.id, action: 'group.updated' }).first();
      expect(entry).toMatchObject({
        before: expect.objectContaining({ path: 'Trucks' }),
        after: expect.objectContaining({ path: 'Lorries' }),
      });
      // and back, for the tests that follow
      await agent
        .post(`/groups/${trucks.id}`)
        .type('form')
        .send({ _csrf: csrf, name: 'Trucks', reference: 'CC-100', enabled: 'on' });
      expect((await db('assets').where({ name: 'Hill truck' }).first())!.group_path).toBe('Trucks / North / Hills');
    },
  );

  it('moves a sub-group under another group with its own sub-groups and assets, audited as a move', async () => {
    const { agent, csrf } = await signIn(owner.email);
    const res = await agent
      .post(`/groups/${hills.id}`)
      .type('form')
      .send({ _csrf: csrf, name: 'Hills', parent_id: south.id, enabled: 'on' });
    expect(res.status).toBe(303);
    expect((await db('groups').where({ id: hills.id }).first())!).toMatchObject({
      parent_id: south.id,
      path: 'Trucks / South / Hills',
    });
    expect((await db('assets').where({ name: 'Hill truck' }).first())!.group_path).toBe('Trucks / South / Hills');
    expect(await db('audit_log').where({ entity_id: hills.id, action: 'group.moved' }).first()).toMatchObject({
      before: expect.objectContaining({ parentId: north.id }),
      after: expect.objectContaining({ parentId: south.id, path: 'Trucks / South / Hills' }),
    });
    await agent
      .post(`/groups/${hills.id}`)
      .type('form')
      .send({ _csrf: csrf, name: 'Hills', parent_id: north.id, enabled: 'on' });
    expect((await db('groups').where({ id: hills.id }).first())!.path).toBe('Trucks / North / Hills');
  });

  it('disables a group with the box unticked, and shows it as Disabled', async () => {
    const { agent, csrf } = await signIn(owner.email);
    expect((await agent.post(`/groups/${vans.id}`).type('form').send({ _csrf: csrf, name: 'Vans' })).status).toBe(303);
    expect((await db('groups').where({ id: vans.id }).first())!.enabled).toBe(false);
    expect(rowsOf((await agent.get('/groups')).text).get('Vans')![2]).toBe('Disabled');
    await agent.post(`/groups/${vans.id}`).type('form').send({ _csrf: csrf, name: 'Vans', enabled: 'on' });
  });
});

describe('a group’s page', () => {
  it(
    'lists the assets of the group and its sub-groups in the asset table, ' +
      'with group headers and tab counts of its own',
    async () => {
      const { agent } = await signIn(owner.email);
      const page = await agent.get(`/groups/${north.id}`);
      expect(page.text).toContain('id="asset-table"');
      for (const name of ['Today truck', 'Late truck', 'Hill truck', 'Unconfirmed truck'])
        expect(page.text).toContain(name);
      expect(page.text).not.toContain('Edge truck');
      expect(page.text).toMatch(/All <span class="count">4<\/span>/);
      expect(page.text).toContain(
        '<tr class="group-row"><th colspan="7" scope="colgroup">Trucks / North / Hills</th></tr>',
      );
      const leaf = await agent.get(`/groups/${hills.id}?tab=active`).set('HX-Request', 'true');
      expect(leaf.text.trim().startsWith('<div id="asset-list">')).toBe(true);
      expect(leaf.text).toContain('Hill truck');
      expect(leaf.text).not.toContain('Today truck');
    },
  );

  it('exports the group’s assets as CSV', async () => {
    const { agent } = await signIn(owner.email);
    const csv = await agent.get(`/groups/${hills.id}.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.text.trim().split('\n')).toHaveLength(3);
  });

  it('lists its sub-groups like the groups list, and says who receives its reminders', async () => {
    const { agent } = await signIn(owner.email);
    const page = await agent.get(`/groups/${trucks.id}`);
    expect([...rowsOf(page.text).keys()]).toEqual(['Trucks / North', 'Trucks / South']);
    expect(page.text).toContain('Only <strong>active</strong> users receive them');
    expect(page.text).toContain('Company admins of Fleetco see every group anyway');
    expect(page.text).toContain('Vera Viewer');
    // someone assigned above reaches the sub-group too, and is said to
    const northPage = await agent.get(`/groups/${north.id}`);
    expect(northPage.text).toMatch(
      /Vera Viewer <span class="muted">Group supervisor, assigned to <a href="[^"]+">Trucks<\/a>/,
    );
  });

  it('shows a group supervisor the users but no control that changes anything', async () => {
    const { agent } = await signIn(viewer.email);
    const page = await agent.get(`/groups/${trucks.id}`);
    expect(page.status).toBe(200);
    for (const control of ['Edit group', 'Create sub-group', 'Submit', 'Remove ', 'user-options', 'Request activation'])
      expect(page.text).not.toContain(control);
    expect(page.text).toContain('Vera Viewer');
  });
});

describe('assigning users to a group', () => {
  it(
    'offers in the type-ahead only group admins and supervisors of the group’s own customer ' +
      'who are active or pending',
    async () => {
      const { agent } = await signIn(owner.email);
      const all = await agent.get(`/groups/${vans.id}/user-options?q=`).set('HX-Request', 'true');
      expect(all.status).toBe(200);
      for (const name of ['Finn Fleet', 'Vera Viewer', 'Pia Pending']) expect(all.text).toContain(name);
      for (const name of ['Dora Disabled', 'Sam Sites', 'Ed East', 'Rex Rival', 'Cora Admin', 'Olga Owner'])
        expect(all.text).not.toContain(name);
      const pia = await agent.get(`/groups/${vans.id}/user-options?q=PIA`);
      expect(pia.text).toContain('Pia Pending');
      expect(pia.text).not.toContain('Finn Fleet');
      // the chips already chosen are not offered again
      const without = await agent.get(`/groups/${vans.id}/user-options?q=&user_ids=${fleetAdmin.membershipId}`);
      expect(without.text).not.toContain('Finn Fleet');
      expect(without.text).toContain('Vera Viewer');
      expect((await agent.get(`/groups/${vans.id}/user-options?q=zzz`)).text).toContain('No other user matches “zzz”.');
    },
  );

  it('sets exactly the submitted users, and audits who was there before and after', async () => {
    const { agent, csrf } = await signIn(owner.email);
    const first = await agent
      .post(`/groups/${vans.id}/users`)
      .type('form')
      .send({ _csrf: csrf, user_ids: [fleetAdmin.membershipId, pending.membershipId] });
    expect(first.status).toBe(303);
    expect(await assignedTo(vans.id)).toEqual([fleetAdmin.membershipId, pending.membershipId].sort());
    const second = await agent
      .post(`/groups/${vans.id}/users`)
      .type('form')
      .send({ _csrf: csrf, user_ids: pending.membershipId });
    expect(second.status).toBe(303);
    expect(await assignedTo(vans.id)).toEqual([pending.membershipId]);
    expect((await agent.get(`/groups/${vans.id}`)).text).toContain('Removed Finn Fleet.');
    const entries = await db('audit_log')
      .where({ entity_id: vans.id, action: 'group.users_changed' })
      .orderBy('id')
      .select('before', 'after');
    expect(entries).toHaveLength(2);
    const names = (side: { users: { name: string }[] }) => side.users.map((u) => u.name);
    expect(names(entries[0].before)).toEqual([]);
    expect(names(entries[0].after)).toEqual(['Finn Fleet', 'Pia Pending']);
    expect(names(entries[1].before)).toEqual(['Finn Fleet', 'Pia Pending']);
    expect(names(entries[1].after)).toEqual(['Pia Pending']);
    // none sent: none left
    await agent.post(`/groups/${vans.id}/users`).type('form').send({ _csrf: csrf });
    expect(await assignedTo(vans.id)).toEqual([]);
  });

  it('answers an htmx Submit with the users section alone, saying what changed', async () => {
    const { agent, csrf } = await signIn(owner.email);
    const res = await agent
      .post(`/groups/${vans.id}/users`)
      .set('HX-Request', 'true')
      .type('form')
      .send({ _csrf: csrf, user_ids: viewer.membershipId });
    expect(res.status).toBe(200);
    expect(res.text.trim().startsWith('<section id="group-users"')).toBe(true);
    expect(res.text).toContain('Saved. Added Vera Viewer.');
    expect(res.text).toContain('aria-label="Remove Vera Viewer"');
    await agent.post(`/groups/${vans.id}/users`).type('form').send({ _csrf: csrf });
  });

  it(
    'refuses a user who may not be assigned (disabled, another customer’s, ' + 'a site viewer) and changes nothing',
    async () => {
      const { agent, csrf } = await signIn(owner.email);
      for (const who of [disabled, eastAdmin, siteViewer, rivalAdmin, otherOwner]) {
        const res = await agent
          .post(`/groups/${vans.id}/users`)
          .type('form')
          .send({ _csrf: csrf, user_ids: [viewer.membershipId, who.membershipId] });
        expect(res.status, who.name).toBe(422);
        expect(res.text).toContain('one of them cannot be assigned to this group');
      }
      expect(
        (await agent.post(`/groups/${vans.id}/users`).type('form').send({ _csrf: csrf, user_ids: 'not-an-id' })).status,
      ).toBe(422);
      expect(await assignedTo(vans.id)).toEqual([]);
      expect(
        await db('audit_log').where({ entity_id: vans.id, action: 'group.users_changed' }).count({ n: '*' }).first(),
      ).toEqual({ n: 5 });
    },
  );

  it('keeps an assigned user who has since been disabled until they are removed', async () => {
    await db('membership_groups').insert({
      tenant_id: tenant.id,
      membership_id: disabled.membershipId,
      group_id: vans.id,
    });
    const { agent, csrf } = await signIn(owner.email);
    const page = await agent.get(`/groups/${vans.id}`);
    expect(page.text).toContain('aria-label="Remove Dora Disabled"');
    expect(
      (
        await agent
          .post(`/groups/${vans.id}/users`)
          .type('form')
          .send({ _csrf: csrf, user_ids: [disabled.membershipId, viewer.membershipId] })
      ).status,
    ).toBe(303);
    expect(await assignedTo(vans.id)).toEqual([disabled.membershipId, viewer.membershipId].sort());
    await agent.post(`/groups/${vans.id}/users`).type('form').send({ _csrf: csrf });
  });
});

describe('what read-only and group roles may not change', () => {
  it('answers a group supervisor 403 on every change and on the forms', async () => {
    const { agent, csrf } = await signIn(viewer.email);
    const before = await db('groups').count({ n: '*' }).first();
    const attempts = [
      agent.get('/groups/new'),
      agent.get(`/groups/${trucks.id}/edit`),
      agent.get(`/groups/${trucks.id}/user-options?q=`),
      agent.post('/groups').type('form').send({ _csrf: csrf, name: 'Mine' }),
      agent.post(`/groups/${trucks.id}`).type('form').send({ _csrf: csrf, name: 'Mine', enabled: 'on' }),
      agent.post(`/groups/${trucks.id}/users`).type('form').send({ _csrf: csrf, user_ids: viewer.membershipId }),
    ];
    for (const res of await Promise.all(attempts)) expect(res.status).toBe(403);
    expect(await db('groups').count({ n: '*' }).first()).toEqual(before);
    expect((await db('groups').where({ id: trucks.id }).first())!.name).toBe('Trucks');
  });

  it('answers a group admin 403 on group changes too: they act on assets, not on groups or their people', async () => {
    const { agent, csrf } = await signIn(fleetAdmin.email);
    expect(
      (await agent.post(`/groups/${north.id}`).type('form').send({ _csrf: csrf, name: 'Mine', enabled: 'on' })).status,
    ).toBe(403);
    expect((await agent.post(`/groups/${north.id}/users`).type('form').send({ _csrf: csrf })).status).toBe(403);
    expect(await assignedTo(north.id)).toEqual([fleetAdmin.membershipId]);
  });

  it('answers 404 for another customer’s group on every route, changes included', async () => {
    const { agent, csrf } = await signIn(owner.email);
    for (const path of [
      `/groups/${yard.id}`,
      `/groups/${yard.id}/edit`,
      `/groups/${yard.id}/user-options`,
      `/groups/${yard.id}/map`,
      `/groups/${yard.id}/map.json`,
      `/groups/${yard.id}.csv`,
    ]) {
      expect((await agent.get(path)).status, path).toBe(404);
    }
    expect(
      (await agent.post(`/groups/${yard.id}`).type('form').send({ _csrf: csrf, name: 'Mine', enabled: 'on' })).status,
    ).toBe(404);
    expect((await agent.post(`/groups/${yard.id}/users`).type('form').send({ _csrf: csrf })).status).toBe(404);
  });
});

describe('the devices map', () => {
  it(
    'gives one entry per located device of the group and its sub-groups, ' +
      'with its time of fix in the viewer’s zone',
    async () => {
      await db('users').where({ id: viewer.id }).update({ time_zone: 'Asia/Tokyo' });
      const { agent } = await signIn(viewer.email);
      const res = await agent.get(`/groups/${trucks.id}/map.json`);
      expect(res.status).toBe(200);
      const located = await db('assets')
        .whereIn('group_id', [trucks.id, north.id, hills.id, south.id])
        .whereNotNull('last_latitude')
        .count({ n: '*' })
        .first();
      expect(res.body.devices).toHaveLength(Number(located!.n));
      expect(res.body.devices.map((d: { name: string }) => d.name).sort()).toEqual([
        'Edge truck',
        'Hill truck',
        'Leaving truck',
        'Today truck',
      ]);
      const edge = res.body.devices.find((d: { name: string }) => d.name === 'Edge truck');
      expect(edge).toMatchObject({
        latitude: 51.51,
        longitude: -0.11,
        locatedAt: `${TODAY}T01:30:00.000Z`,
        fixLabel: '24 Nov 2026, 10:30 GMT+9',
      });
      const page = await agent.get(`/groups/${trucks.id}/map`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('data-map-json="/groups/');
      expect(page.text).toContain('No background map is configured');
      expect((page.text.match(/<li><a href="\/assets\//g) ?? []).length).toBe(4);
      await db('users').where({ id: viewer.id }).update({ time_zone: 'Europe/London' });
    },
  );

  it('refuses the map (403) and shows no map button where the provider has not switched it on', async () => {
    const { agent } = await signIn(owner.email);
    expect((await agent.get(`/groups/${depot.id}/map`)).status).toBe(403);
    expect((await agent.get(`/groups/${depot.id}/map.json`)).status).toBe(403);
    const page = await agent.get('/groups');
    expect(page.text).not.toContain(`/groups/${depot.id}/map`);
    expect(page.text).toContain(`/groups/${trucks.id}/map`);
    expect((await agent.get(`/groups/${depot.id}`)).text).not.toContain('data-map-dialog');
  });

  it('lets the tenant admin switch a customer’s map off and on, audited, and the map follows at once', async () => {
    const admin = await signIn(staff.email);
    const customerPage = await admin.agent.get(`/admin/customers/${fleetco.id}`);
    expect(customerPage.text).toContain('Switch the map off');
    expect(
      (
        await admin.agent
          .post(`/admin/customers/${fleetco.id}/map`)
          .type('form')
          .send({ _csrf: admin.csrf, map: 'off' })
      ).status,
    ).toBe(303);
    const { agent } = await signIn(owner.email);
    expect((await agent.get(`/groups/${trucks.id}/map`)).status).toBe(403);
    expect((await agent.get(`/groups/${trucks.id}`)).text).not.toContain('data-map-dialog');
    expect(
      (await admin.agent.post(`/admin/customers/${fleetco.id}/map`).type('form').send({ _csrf: admin.csrf, map: 'on' }))
        .status,
    ).toBe(303);
    expect((await agent.get(`/groups/${trucks.id}/map`)).status).toBe(200);
    const audits = await db('audit_log')
      .where({ entity_id: fleetco.id })
      .whereIn('action', ['customer.map_disabled', 'customer.map_enabled'])
      .orderBy('id')
      .select('action');
    expect(audits.map((a: { action: string }) => a.action)).toEqual(['customer.map_disabled', 'customer.map_enabled']);
    expect(
      (await admin.agent.post(`/admin/customers/${fleetco.id}/map`).type('form').send({ _csrf: admin.csrf })).status,
    ).toBe(422);
  });
});

describe('the Content-Security-Policy and the map tiles', () => {
  it('admits images from the configured tile server and from nowhere else', async () => {
    const withTiles = testApp({
      db,
      clock,
      env: { MAP_TILE_URL: 'https://{s}.tiles.example.com/{z}/{x}/{y}.png' },
    }).app;
    const csp = (await supertest(withTiles).get('/login')).headers['content-security-policy'] as string;
    expect(csp).toContain("img-src 'self' data: https://*.tiles.example.com;");
    expect(csp).toContain("style-src 'self';");
    expect((await supertest(app).get('/login')).headers['content-security-policy']).toContain("img-src 'self' data:;");
  });
});

describe('the Users page', () => {
  it('shows for each user the groups they reach, and on their page the groups they are assigned to', async () => {
    const { agent } = await signIn(owner.email);
    const list = await agent.get('/users');
    const row = (name: string) => new RegExp(`${name}</a></th>[\\s\\S]*?</tr>`).exec(list.text)?.[0] ?? '';
    expect(row('Vera Viewer')).toContain('Trucks <span class="muted">(+3 sub-groups)</span>');
    expect(row('Finn Fleet')).toContain('Trucks / North <span class="muted">(+1 sub-group)</span>');
    expect(row('Olga Owner')).toContain('All groups');
    expect(row('Pia Pending')).toContain('None assigned');
    const page = await agent.get(`/users/${viewer.id}`);
    expect(page.text).toContain(`<a href="/groups/${trucks.id}">Trucks</a>`);
    expect(page.text).toContain('and 3 sub-groups below it (4 groups in all)');
  });
});
