import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { applyDueDeactivations } from '../../src/services/assets/due-deactivations.js';
import type { Day, Plan } from '../../src/services/assets/subscription-rules.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { decode, fieldError } from '../support/forms.js';

const { db } = await testDatabase();
const NOW = '2026-11-24T09:00:00Z';
const TODAY = '2026-11-24';
const { app } = testApp({ db, clock: fixedClock(NOW) });

// ---- a provider with two customers, groups, and one person in each role ----

const tenant = await makeTenant(db, { name: 'Fleetline Telematics' });
const acme = await makeCustomer(db, tenant.id, { title: 'Acme Haulage' });
const rival = await makeCustomer(db, tenant.id, { title: 'Rival Freight' });

let serial = 0;
const nextIdentifier = () => `35${String(Date.now() % 1e6).padStart(6, '0')}${String(++serial).padStart(5, '0')}`;

async function makeGroup(customerId: string, name: string, parent?: { id: string; path: string }) {
  const path = parent ? `${parent.path} / ${name}` : name;
  const [row] = await db('groups')
    .insert({ tenant_id: tenant.id, customer_id: customerId, parent_id: parent?.id ?? null, name, path })
    .returning(['id', 'path']);
  return row as { id: string; path: string };
}

type AssetFields = Partial<{
  status: string;
  plan: Plan;
  term_start: Day | null;
  term_end: Day | null;
  next_renewal_on: Day | null;
  renewal_unconfirmed: boolean;
  name: string;
  identifier: string;
}>;

/** The term each plan runs by default: started 15 March 2026, written out rather than worked out by the rules. */
const TERMS: Record<Plan, { termStart: Day; termEnd: Day; nextRenewalOn: Day | null }> = {
  monthly: { termStart: '2026-03-15', termEnd: '2026-04-14', nextRenewalOn: null },
  quarterly: { termStart: '2026-03-15', termEnd: '2026-06-14', nextRenewalOn: '2026-06-15' },
  yearly: { termStart: '2026-03-15', termEnd: '2027-03-14', nextRenewalOn: '2027-03-15' },
};

/** An asset in a group, active on the default term of its plan unless told otherwise. */
async function makeAsset(customerId: string, group: { id: string; path: string } | null, fields: AssetFields = {}) {
  const plan = fields.plan ?? 'yearly';
  const term = TERMS[plan];
  const [row] = await db('assets')
    .insert({
      tenant_id: tenant.id,
      customer_id: customerId,
      group_id: group?.id ?? null,
      group_path: group?.path ?? '',
      identifier: fields.identifier ?? nextIdentifier(),
      name: fields.name ?? 'Truck',
      status: fields.status ?? 'active',
      plan,
      term_start: 'term_start' in fields ? fields.term_start : term.termStart,
      term_end: 'term_end' in fields ? fields.term_end : term.termEnd,
      next_renewal_on: 'next_renewal_on' in fields ? fields.next_renewal_on : term.nextRenewalOn,
      renewal_unconfirmed: fields.renewal_unconfirmed ?? false,
    })
    .returning(['id', 'identifier', 'customer_id']);
  return row as { id: string; identifier: string; customer_id: string };
}

const trucks = await makeGroup(acme.id, 'Trucks');
const north = await makeGroup(acme.id, 'North', trucks);
const vans = await makeGroup(acme.id, 'Vans');
const depot = await makeGroup(rival.id, 'Depot');

const owner = await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: acme.id },
  { name: 'Olga Owner' },
);
const fleet = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_admin', customerId: acme.id },
  { name: 'Fred Fleet' },
);
const viewer = await makeUser(db, { tenantId: tenant.id, role: 'group_supervisor', customerId: acme.id });
const staff = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }, { name: 'Stella Staff' });
const support = await makeUser(db, { tenantId: tenant.id, role: 'support_agent' });
const rivalOwner = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: rival.id });
for (const m of [fleet, viewer])
  await db('membership_groups').insert({ tenant_id: tenant.id, membership_id: m.membershipId, group_id: trucks.id });
// customers see their own day: Olga works from Auckland, where it is already tomorrow for much of a UTC day
await db('users').where({ id: owner.id }).update({ time_zone: 'Pacific/Auckland' });

type Agent = Awaited<ReturnType<typeof signedInAgent>>;
const signIn = (email: string, on = app) => signedInAgent(on, email, TEST_PASSWORD);
const asOwner = await signIn(owner.email);
const asFleet = await signIn(fleet.email);
const asViewer = await signIn(viewer.email);
const asStaff = await signIn(staff.email);
const asSupport = await signIn(support.email);
const asRival = await signIn(rivalOwner.email);
const post = (who: Agent, path: string, fields: Record<string, string> = {}) =>
  who.agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: who.csrf });

const assetRow = (id: string) => db('assets').where({ tenant_id: tenant.id, id }).first();
const requestsOf = (assetId: string) =>
  db('asset_requests').where({ tenant_id: tenant.id, asset_id: assetId }).orderBy('requested_at');
const auditOf = (assetId: string) =>
  db('audit_log').where({ tenant_id: tenant.id, entity_type: 'asset', entity_id: assetId }).orderBy('id');
/** The page after a redirect, with its flash. */
const follow = async (who: Agent, res: { status: number; headers: Record<string, string> }) => {
  expect(res.status).toBe(303);
  return who.agent.get(res.headers.location!);
};
const POSTS = [
  'activation-request',
  'renewal-confirmation',
  'deactivation-request',
  'deactivation-request/cancel',
  'group',
];

describe('the asset page', () => {
  it(
    'shows a company admin the asset with its customer, group, plan, term, ' + 'renewal and the actions they may take',
    async () => {
      const asset = await makeAsset(acme.id, north, { name: 'Truck 7', plan: 'yearly' });
      await db('assets')
        .where({ id: asset.id })
        .update({ last_latitude: 51.5, last_longitude: -0.12, last_located_at: '2026-11-24T08:00:00Z' });
      const res = await asOwner.agent.get(`/assets/${asset.id}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain('<h1>Truck 7 <span class="badge badge-asset badge-active">Active</span></h1>');
      expect(res.text).toContain(`<code>${asset.identifier}</code>`);
      expect(res.text).toContain('Acme Haulage');
      expect(res.text).toContain('<dt>Group</dt><dd>Trucks / North</dd>');
      expect(res.text).toContain('<dt>Plan</dt><dd>Yearly</dd>');
      expect(res.text).toContain('15 March 2026</time> to <time datetime="2027-03-14">14 March 2027</time>');
      expect(res.text).toContain('15 March 2027</time> <span class="renewal-text">(renews on this date)</span>');
      expect(res.text).toContain('51.50000, -0.12000');
      expect(res.text).toContain('Request deactivation');
      expect(res.text).toContain('Move to group');
      expect(res.text).toContain('No requests about this asset yet.');
    },
  );

  it(
    'shows a group supervisor the asset of their group with no action at all, ' + 'and refuses every change with 403',
    async () => {
      const asset = await makeAsset(acme.id, trucks, { renewal_unconfirmed: true, next_renewal_on: '2026-11-01' });
      const page = await asViewer.agent.get(`/assets/${asset.id}`);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('<h2 id="actions-heading">');
      expect(page.text).not.toMatch(/<button[^>]*>(Activate|Reactivate|Confirm renewal|Cancel deactivation|Move)</);
      expect(page.text).not.toContain('Request deactivation');
      for (const p of POSTS)
        expect((await post(asViewer, `/assets/${asset.id}/${p}`, { group_id: north.id })).status).toBe(403);
      expect((await asViewer.agent.get(`/assets/${asset.id}/deactivation-request`)).status).toBe(403);
      expect(await requestsOf(asset.id)).toEqual([]);
    },
  );

  it('answers 404 to a group admin for an asset outside their groups, on the page and on every change', async () => {
    const asset = await makeAsset(acme.id, vans);
    expect((await asFleet.agent.get(`/assets/${asset.id}`)).status).toBe(404);
    for (const p of POSTS)
      expect((await post(asFleet, `/assets/${asset.id}/${p}`, { group_id: trucks.id })).status).toBe(404);
    expect((await asRival.agent.get(`/assets/${asset.id}`)).status).toBe(404);
    expect((await asOwner.agent.get('/assets/not-an-id')).status).toBe(404);
    expect((await assetRow(asset.id)).status).toBe('active');
  });

  it('shows a group admin the assets of their sub-groups, with actions', async () => {
    const asset = await makeAsset(acme.id, north);
    const page = await asFleet.agent.get(`/assets/${asset.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Request deactivation');
  });

  it('sends staff to their queue rather than to asset pages: 403', async () => {
    const asset = await makeAsset(acme.id, trucks);
    expect((await asStaff.agent.get(`/assets/${asset.id}`)).status).toBe(403);
    expect((await post(asStaff, `/assets/${asset.id}/deactivation-request`)).status).toBe(403);
  });
});

// 20:00 UTC on 30 November is already 1 December in Auckland: the customer's month is December
const late = testApp({ db, clock: fixedClock('2026-11-30T20:00:00Z') }).app;
const ownerLate = await signIn(owner.email, late);

describe('requesting deactivation', () => {
  // the customer's day is 1 December 2026 (Auckland): the month's end, or the end of the term that runs
  const cases: [Plan, AssetFields, Day][] = [
    ['monthly', { plan: 'monthly' }, '2026-12-31'],
    [
      'quarterly',
      { plan: 'quarterly', term_start: '2026-10-05', term_end: '2027-01-04', next_renewal_on: '2027-01-05' },
      '2027-01-04',
    ],
    ['yearly', { plan: 'yearly' }, '2027-03-14'],
  ];

  for (const [plan, fields, day] of cases) {
    it(`shows a ${plan} asset's effective date (${day}) first, then makes it pending until then`, async () => {
      const asset = await makeAsset(acme.id, trucks, fields);
      const label = new Intl.DateTimeFormat('en-GB', {
        day: 'numeric',
        month: 'long',
        year: 'numeric',
        timeZone: 'UTC',
      }).format(new Date(`${day}T00:00:00Z`));

      const confirm = await ownerLate.agent.get(`/assets/${asset.id}/deactivation-request`);
      expect(confirm.status).toBe(200);
      expect(confirm.text).toContain(`It takes effect on <time datetime="${day}">${label}</time>`);
      expect(confirm.text).toContain(`Confirm deactivation on ${label}`);
      expect((await assetRow(asset.id)).status).toBe('active'); // looking is not asking

      const done = await follow(ownerLate, await post(ownerLate, `/assets/${asset.id}/deactivation-request`));
      expect(done.text).toContain(`Deactivation requested: it takes effect on ${label}.`);
      expect(done.text).toContain(
        `<strong>Deactivation pending:</strong> it takes effect on <time datetime="${day}">${label}</time>`,
      );
      expect(done.text).toContain('Cancel deactivation');
      expect(done.text).toContain(`None: the subscription ends with its deactivation on ${label}`);
      expect((await assetRow(asset.id)).status).toBe('deactivation_pending');
      const [request] = await requestsOf(asset.id);
      expect(request).toMatchObject({
        kind: 'deactivation',
        state: 'pending',
        effective_on: day,
        requested_by: owner.id,
      });
      const [entry] = await auditOf(asset.id);
      expect(entry).toMatchObject({
        action: 'asset.deactivation_requested',
        customer_id: acme.id,
        actor_user_id: owner.id,
      });
      expect(entry.before).toMatchObject({ status: 'active' });
      expect(entry.after).toMatchObject({ status: 'deactivation_pending', effective_on: day });
    });
  }

  it('refuses a second deactivation while one is pending with 409 and says when the first takes effect', async () => {
    const asset = await makeAsset(acme.id, trucks, { plan: 'monthly' });
    expect((await post(asOwner, `/assets/${asset.id}/deactivation-request`)).status).toBe(303);
    const again = await post(asOwner, `/assets/${asset.id}/deactivation-request`);
    expect(again.status).toBe(409);
    // Auckland on 24 November 09:00 UTC is the 24th too: the month ends on the 30th
    expect(decode(again.text)).toContain(
      'A deactivation of this asset is already pending: it takes effect on 30 November 2026.',
    );
    expect(await requestsOf(asset.id)).toHaveLength(1);
    const confirm = await asOwner.agent.get(`/assets/${asset.id}/deactivation-request`);
    expect(confirm.text).toContain('already pending: it takes effect on 30 November 2026.');
    expect(confirm.text).not.toContain('Confirm deactivation');
  });

  it('refuses to deactivate an asset that is not active', async () => {
    const asset = await makeAsset(acme.id, trucks, { status: 'deactivated', next_renewal_on: null });
    const res = await post(asOwner, `/assets/${asset.id}/deactivation-request`);
    expect(res.status).toBe(409);
    expect(res.text).toContain('Only an active asset can be deactivated; this one is deactivated.');
  });

  it('returns the asset to active when the deactivation is cancelled, and records who cancelled', async () => {
    const asset = await makeAsset(acme.id, trucks);
    await post(asFleet, `/assets/${asset.id}/deactivation-request`);
    const page = await follow(asFleet, await post(asFleet, `/assets/${asset.id}/deactivation-request/cancel`));
    expect(page.text).toContain('Deactivation cancelled: the asset stays active.');
    expect(page.text).toContain('badge-active">Active</span></h1>');
    expect(page.text).toContain('Request deactivation');
    expect((await assetRow(asset.id)).status).toBe('active');
    const [request] = await requestsOf(asset.id);
    expect(request).toMatchObject({ state: 'cancelled', decided_by: fleet.id });
    expect((await auditOf(asset.id)).map((e) => e.action)).toEqual([
      'asset.deactivation_requested',
      'asset.deactivation_cancelled',
    ]);
    expect((await post(asFleet, `/assets/${asset.id}/deactivation-request/cancel`)).status).toBe(409);
  });
});

describe('moving an asset to another group', () => {
  const countIn = async (groupId: string) =>
    Number(
      (await db('asset_counts').where({ tenant_id: tenant.id, group_key: groupId, status: 'active' }).first())?.n ?? 0,
    );

  it('offers the customer’s groups indented by path, moves at once, and shows the move in the history', async () => {
    const asset = await makeAsset(acme.id, vans);
    const page = await asOwner.agent.get(`/assets/${asset.id}`);
    const options = [...page.text.matchAll(/<option value="([^"]*)"[^>]*>([^<]*)<\/option>/g)].map((m) =>
      decode(m[2]!),
    );
    expect(options).toEqual(['Trucks', '\u00a0\u00a0\u00a0North', 'Vans (current)']);
    expect(page.text).not.toContain('Depot');

    const [vansBefore, northBefore] = [await countIn(vans.id), await countIn(north.id)];
    const moved = await follow(asOwner, await post(asOwner, `/assets/${asset.id}/group`, { group_id: north.id }));
    expect(moved.text).toContain('Moved to Trucks / North.');
    expect(moved.text).toContain('<dt>Group</dt><dd>Trucks / North</dd>');
    expect(moved.text).toMatch(/Group move<br><span class="muted">from Vans to Trucks \/ North<\/span>/);
    expect(await assetRow(asset.id)).toMatchObject({
      group_id: north.id,
      group_path: 'Trucks / North',
      customer_id: acme.id,
    });
    expect(await countIn(vans.id)).toBe(vansBefore - 1);
    expect(await countIn(north.id)).toBe(northBefore + 1);
    const [request] = await requestsOf(asset.id);
    expect(request).toMatchObject({
      kind: 'group_move',
      state: 'applied',
      from_group_id: vans.id,
      to_group_id: north.id,
    });
    const [entry] = await auditOf(asset.id);
    expect(entry).toMatchObject({
      action: 'asset.moved',
      before: { group_path: 'Vans' },
      after: { group_path: 'Trucks / North' },
    });
  });

  it('lets a group admin move only within their groups, with a message next to the field otherwise', async () => {
    const asset = await makeAsset(acme.id, trucks);
    const page = await asFleet.agent.get(`/assets/${asset.id}`);
    expect(page.text).not.toMatch(/<option[^>]*>Vans/);
    const refused = await post(asFleet, `/assets/${asset.id}/group`, { group_id: vans.id });
    expect(refused.status).toBe(422);
    expect(fieldError(refused.text, 'group_id')).toBe('Choose one of the listed groups.');
    const otherCustomers = await post(asOwner, `/assets/${asset.id}/group`, { group_id: depot.id });
    expect(otherCustomers.status).toBe(422);
    const same = await post(asFleet, `/assets/${asset.id}/group`, { group_id: trucks.id });
    expect(fieldError(same.text, 'group_id')).toBe('The asset is already in this group. Choose another one.');
    expect((await assetRow(asset.id)).group_id).toBe(trucks.id);
    expect(await requestsOf(asset.id)).toEqual([]);
    expect((await post(asFleet, `/assets/${asset.id}/group`, { group_id: north.id })).status).toBe(303);
  });
});

describe('confirming an automatic renewal', () => {
  it('clears the danger state at once and records the confirmation in the history', async () => {
    const asset = await makeAsset(acme.id, trucks, {
      plan: 'yearly',
      term_start: '2026-11-01',
      term_end: '2027-10-31',
      next_renewal_on: '2027-11-01',
      renewal_unconfirmed: true,
    });
    const before = await asOwner.agent.get(`/assets/${asset.id}`);
    expect(before.text).toContain('renewal-unconfirmed');
    expect(before.text).toContain('(renewed automatically: please confirm)');
    const after = await follow(asOwner, await post(asOwner, `/assets/${asset.id}/renewal-confirmation`));
    expect(after.text).toContain('Renewal confirmed: the current term runs until 31 October 2027.');
    expect(after.text).not.toContain('please confirm');
    expect(after.text).not.toContain('Confirm renewal</button>');
    expect(after.text).toMatch(/Renewal confirmation<\/th>\s*<td>Olga Owner/);
    expect((await assetRow(asset.id)).renewal_unconfirmed).toBe(false);
    expect(await requestsOf(asset.id)).toMatchObject([
      { kind: 'renewal_confirmation', state: 'applied', decided_by: owner.id },
    ]);
    expect(await auditOf(asset.id)).toMatchObject([
      {
        action: 'asset.renewal_confirmed',
        before: { renewal_unconfirmed: true },
        after: { renewal_unconfirmed: false },
      },
    ]);
    expect((await post(asOwner, `/assets/${asset.id}/renewal-confirmation`)).status).toBe(409);
  });
});

describe('activation, and the provider’s decision', () => {
  it('asks for the activation of a never-active asset, which then waits for the provider', async () => {
    const asset = await makeAsset(acme.id, trucks, {
      status: 'inactive',
      term_start: null,
      term_end: null,
      next_renewal_on: null,
    });
    const page = await asOwner.agent.get(`/assets/${asset.id}`);
    expect(page.text).toContain('>Activate</button>');
    const after = await follow(asOwner, await post(asOwner, `/assets/${asset.id}/activation-request`));
    expect(after.text).toContain(
      'Activation requested: the asset shows as Activation pending until Fleetline Telematics approves it.',
    );
    expect(after.text).toContain('badge-activation_pending">Activation pending</span>');
    expect(after.text).toContain('waiting for Fleetline Telematics to approve it');
    expect(await requestsOf(asset.id)).toMatchObject([{ kind: 'activation', state: 'pending' }]);
    expect((await post(asOwner, `/assets/${asset.id}/activation-request`)).status).toBe(409);
  });

  it('lets a tenant admin approve it: active, with a first quarter from today to 23 February 2027', async () => {
    const asset = await makeAsset(acme.id, trucks, {
      status: 'inactive',
      plan: 'quarterly',
      term_start: null,
      term_end: null,
      next_renewal_on: null,
    });
    await post(asOwner, `/assets/${asset.id}/activation-request`);
    const [request] = await requestsOf(asset.id);
    const queue = await asStaff.agent.get('/admin/requests');
    expect(queue.status).toBe(200);
    expect(queue.text).toContain(`<a href="/admin/customers/${acme.id}"><code>${asset.identifier}</code></a>`);
    const done = await follow(asStaff, await post(asStaff, `/admin/requests/${request.id}/approval`));
    expect(done.text).toContain(`${asset.identifier} is active: its first term runs until 23 February 2027.`);
    expect(done.text).not.toContain(`<code>${asset.identifier}</code>`);
    expect(await assetRow(asset.id)).toMatchObject({
      status: 'active',
      term_start: TODAY,
      term_end: '2027-02-23',
      next_renewal_on: '2027-02-24',
    });
    expect((await requestsOf(asset.id))[0]).toMatchObject({
      state: 'approved',
      decided_by: staff.id,
      decided_by_label: `Stella Staff <${staff.email}>`,
    });
    expect((await auditOf(asset.id)).map((e) => e.action)).toEqual([
      'asset.activation_requested',
      'asset.activation_approved',
    ]);
    const seen = await asOwner.agent.get(`/assets/${asset.id}`);
    expect(seen.text).toContain('badge-active">Active</span>');
    expect((await post(asStaff, `/admin/requests/${request.id}/approval`)).status).toBe(409);
  });

  it("shows customers who decided a request by name and provider, never the staff member's email", async () => {
    const asset = await makeAsset(acme.id, trucks, { status: 'deactivated', next_renewal_on: null });
    await post(asFleet, `/assets/${asset.id}/activation-request`);
    const [request] = await requestsOf(asset.id);
    await post(asStaff, `/admin/requests/${request.id}/approval`);
    for (const who of [asOwner, asFleet, asViewer]) {
      const page = await who.agent.get(`/assets/${asset.id}`);
      expect(page.status).toBe(200);
      expect(page.text).not.toContain(staff.email);
      expect(decode(page.text)).toContain('Stella Staff (Fleetline Telematics)');
      // the customer's own people by name too
      expect(page.text).not.toContain(fleet.email);
      expect(page.text).toContain('<td>Fred Fleet</td>');
    }
  });

  it('lets a support agent reject a reactivation with a reason, which the customer reads in the history', async () => {
    const asset = await makeAsset(acme.id, trucks, { status: 'deactivated', next_renewal_on: null });
    const page = await asOwner.agent.get(`/assets/${asset.id}`);
    expect(page.text).toContain('>Reactivate</button>');
    await post(asOwner, `/assets/${asset.id}/activation-request`);
    const [request] = await requestsOf(asset.id);
    expect(request.kind).toBe('reactivation');

    const empty = await post(asSupport, `/admin/requests/${request.id}/rejection`, { reason: '   ' });
    expect(empty.status).toBe(422);
    expect(fieldError(empty.text, `reason-${request.id}`)).toBe(
      'Give the customer a reason: they will see it in the asset’s history.',
    );
    expect(empty.text).toContain(
      `id="f-reason-${request.id}" name="reason" type="text" maxlength="1000" value="   " aria-invalid="true"`,
    );
    expect((await requestsOf(asset.id))[0].state).toBe('pending');

    const done = await follow(
      asSupport,
      await post(asSupport, `/admin/requests/${request.id}/rejection`, { reason: 'The SIM was reported stolen.' }),
    );
    expect(done.text).toContain(
      `Reactivation of ${asset.identifier} rejected: the customer sees your reason in the asset’s history.`,
    );
    expect(await assetRow(asset.id)).toMatchObject({ status: 'deactivated' });
    expect((await requestsOf(asset.id))[0]).toMatchObject({
      state: 'rejected',
      reason: 'The SIM was reported stolen.',
      decided_by: support.id,
    });
    const seen = await asOwner.agent.get(`/assets/${asset.id}`);
    expect(seen.text).toContain('Reason: The SIM was reported stolen.');
    expect(seen.text).toContain('>Rejected</span>');
    expect(seen.text).toContain('>Reactivate</button>');
    expect((await auditOf(asset.id)).map((e) => [e.action, e.actor_user_id])).toEqual([
      ['asset.reactivation_requested', owner.id],
      ['asset.reactivation_rejected', support.id],
    ]);
  });

  it('puts a rejected first activation back to inactive, and a rejected deactivation back to active', async () => {
    const fresh = await makeAsset(acme.id, trucks, {
      status: 'inactive',
      term_start: null,
      term_end: null,
      next_renewal_on: null,
    });
    await post(asOwner, `/assets/${fresh.id}/activation-request`);
    await post(asStaff, `/admin/requests/${(await requestsOf(fresh.id))[0].id}/rejection`, {
      reason: 'Unknown device model.',
    });
    expect((await assetRow(fresh.id)).status).toBe('inactive');

    const leaving = await makeAsset(acme.id, trucks);
    await post(asOwner, `/assets/${leaving.id}/deactivation-request`);
    const res = await post(asStaff, `/admin/requests/${(await requestsOf(leaving.id))[0].id}/rejection`, {
      reason: 'Still under contract.',
    });
    expect(res.status).toBe(303);
    expect((await assetRow(leaving.id)).status).toBe('active');
    expect((await auditOf(leaving.id)).at(-1)).toMatchObject({
      action: 'asset.deactivation_rejected',
      after: { status: 'active', reason: 'Still under contract.' },
    });
  });

  it('lets staff apply a pending deactivation now; it cannot be approved like an activation', async () => {
    const asset = await makeAsset(acme.id, trucks);
    await post(asOwner, `/assets/${asset.id}/deactivation-request`);
    const [request] = await requestsOf(asset.id);
    const approve = await post(asStaff, `/admin/requests/${request.id}/approval`);
    expect(approve.status).toBe(409);
    expect(decode(approve.text)).toContain('A deactivation is not approved');
    const done = await follow(asStaff, await post(asStaff, `/admin/requests/${request.id}/application`));
    expect(done.text).toContain(`${asset.identifier} is deactivated.`);
    expect(await assetRow(asset.id)).toMatchObject({ status: 'deactivated', next_renewal_on: null });
    expect((await requestsOf(asset.id))[0]).toMatchObject({ state: 'applied', decided_by: staff.id });
    expect((await auditOf(asset.id)).at(-1)).toMatchObject({
      action: 'asset.deactivation_applied',
      actor_user_id: staff.id,
    });
  });

  it('keeps the queue to staff of the tenant: customers get 403, another provider 404', async () => {
    const asset = await makeAsset(acme.id, trucks);
    await post(asOwner, `/assets/${asset.id}/deactivation-request`);
    const [request] = await requestsOf(asset.id);
    expect((await asOwner.agent.get('/admin/requests')).status).toBe(403);
    expect((await post(asOwner, `/admin/requests/${request.id}/application`)).status).toBe(403);
    expect((await post(asViewer, `/admin/requests/${request.id}/rejection`, { reason: 'x' })).status).toBe(403);
    const otherTenant = await makeTenant(db);
    const stranger = await signIn((await makeUser(db, { tenantId: otherTenant.id, role: 'tenant_admin' })).email);
    expect((await post(stranger, `/admin/requests/${request.id}/application`)).status).toBe(404);
    expect((await stranger.agent.get('/admin/requests')).text).not.toContain(asset.identifier);
    expect((await assetRow(asset.id)).status).toBe('deactivation_pending');
  });

  it('filters the queue by kind and customer in the query string, and answers htmx with the table alone', async () => {
    const mine = await makeAsset(acme.id, trucks);
    await post(asOwner, `/assets/${mine.id}/deactivation-request`);
    const theirs = await makeAsset(rival.id, depot, {
      status: 'inactive',
      term_start: null,
      term_end: null,
      next_renewal_on: null,
    });
    await post(asRival, `/assets/${theirs.id}/activation-request`);

    const deactivations = await asStaff.agent.get('/admin/requests?kind=deactivation');
    expect(deactivations.text).toContain(mine.identifier);
    expect(deactivations.text).not.toContain(theirs.identifier);
    const rivals = await asStaff.agent.get(`/admin/requests?customer=${rival.id}`).set('HX-Request', 'true');
    expect(rivals.text.trimStart()).toMatch(/^<div id="request-table"[ >]/);
    expect(rivals.text).toContain(theirs.identifier);
    expect(rivals.text).not.toContain(mine.identifier);
    expect(rivals.text).toContain(`<input type="hidden" name="customer" value="${rival.id}">`);
    const none = await asStaff.agent.get(`/admin/requests?kind=reactivation&customer=${rival.id}`);
    expect(none.text).toContain('No pending request matches these filters.');

    const back = await post(asStaff, `/admin/requests/${(await requestsOf(theirs.id))[0].id}/approval`, {
      kind: '',
      customer: rival.id,
    });
    expect(back.headers.location).toBe(`/admin/requests?customer=${rival.id}`);
  });
});

describe('applying due deactivations (for the daily job)', () => {
  it('deactivates exactly those due by today, and finds nothing more to do when run again', async () => {
    const dueYesterday = await makeAsset(acme.id, trucks, { status: 'deactivation_pending' });
    const dueToday = await makeAsset(acme.id, trucks, { status: 'deactivation_pending' });
    const dueTomorrow = await makeAsset(acme.id, trucks, { status: 'deactivation_pending' });
    const base = { tenant_id: tenant.id, customer_id: acme.id, kind: 'deactivation', requested_by_label: 'Olga Owner' };
    await db('asset_requests').insert([
      { ...base, asset_id: dueYesterday.id, effective_on: '2026-11-30' },
      { ...base, asset_id: dueToday.id, effective_on: '2026-12-01' },
      { ...base, asset_id: dueTomorrow.id, effective_on: '2026-12-02' },
    ]);
    const before = await db('assets')
      .where({ tenant_id: tenant.id, status: 'deactivated' })
      .count<{ n: number }[]>({ n: '*' });

    expect(await applyDueDeactivations(db, '2026-12-01')).toBeGreaterThanOrEqual(2);
    expect((await assetRow(dueYesterday.id)).status).toBe('deactivated');
    expect((await assetRow(dueToday.id)).status).toBe('deactivated');
    expect((await assetRow(dueTomorrow.id)).status).toBe('deactivation_pending');
    expect((await requestsOf(dueToday.id))[0]).toMatchObject({
      state: 'applied',
      decided_by_label: 'Scheduled deactivation',
    });
    expect((await requestsOf(dueTomorrow.id))[0].state).toBe('pending');
    expect(await auditOf(dueToday.id)).toMatchObject([
      {
        action: 'asset.deactivation_applied',
        actor_label: 'Scheduled deactivation',
        customer_id: acme.id,
        before: { status: 'deactivation_pending' },
        after: { status: 'deactivated' },
      },
    ]);

    expect(await applyDueDeactivations(db, '2026-12-01')).toBe(0);
    expect(await auditOf(dueToday.id)).toHaveLength(1);
    const after = await db('assets')
      .where({ tenant_id: tenant.id, status: 'deactivated' })
      .count<{ n: number }[]>({ n: '*' });
    expect(Number(after[0]!.n)).toBeGreaterThanOrEqual(Number(before[0]!.n) + 2);
  });
});

describe('the deep link by device identifier', () => {
  it('takes an anonymous visitor through sign-in and then to the asset', async () => {
    const asset = await makeAsset(acme.id, trucks, { name: 'Linked truck' });
    const agent = supertest.agent(app);
    const first = await agent.get(`/assets/by-identifier/${asset.identifier}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe(
      `/login?next=${encodeURIComponent(`/assets/by-identifier/${asset.identifier}`)}`,
    );
    const login = await agent.get(first.headers.location!);
    expect(login.text).toContain(`value="/assets/by-identifier/${asset.identifier}"`);
    const signedIn = await agent
      .post('/login')
      .type('form')
      .send({
        email: owner.email,
        password: TEST_PASSWORD,
        next: `/assets/by-identifier/${asset.identifier}`,
        _csrf: csrfFrom(login.text),
      });
    expect(signedIn.headers.location).toBe(`/assets/by-identifier/${asset.identifier}`);
    const link = await agent.get(signedIn.headers.location!);
    expect(link.status).toBe(303);
    expect(link.headers.location).toBe(`/assets/${asset.id}`);
    expect((await agent.get(link.headers.location!)).text).toContain('<h1>Linked truck');
  });

  it(
    'says plainly "You cannot see this device with your account" ' +
      'for another customer’s device or an unknown one (404)',
    async () => {
      const theirs = await makeAsset(rival.id, depot);
      const res = await asOwner.agent.get(`/assets/by-identifier/${theirs.identifier}`);
      expect(res.status).toBe(404);
      expect(res.text).toContain('You cannot see this device with your account');
      const unknown = await asOwner.agent.get('/assets/by-identifier/000000000000000');
      expect(unknown.status).toBe(404);
      expect(unknown.text.replace(/[0-9]{15}/g, '')).toBe(
        res.text.replace(new RegExp(theirs.identifier, 'g'), '').replace(/[0-9]{15}/g, ''),
      );
      const outsideGroup = await makeAsset(acme.id, vans);
      expect((await asFleet.agent.get(`/assets/by-identifier/${outsideGroup.identifier}`)).status).toBe(404);
    },
  );
});

describe('requesting activation of a device', () => {
  const assetCount = async () =>
    Number((await db('assets').where({ tenant_id: tenant.id }).count<{ n: number }[]>({ n: '*' }))[0]!.n);

  it('points to the page of a device already registered to the customer, and creates nothing', async () => {
    const asset = await makeAsset(acme.id, trucks, { status: 'deactivated', next_renewal_on: null });
    const count = await assetCount();
    const search = await asOwner.agent.get(`/assets/request-activation?identifier=${asset.identifier}`);
    expect(search.status).toBe(200);
    expect(search.text).toContain(`is already registered</strong> as Truck (Deactivated)`);
    expect(search.text).toContain(`<a class="button" href="/assets/${asset.id}">Open ${asset.identifier}</a>`);
    expect(search.text).not.toContain('Request activation</button>');
    const posted = await post(asOwner, '/assets/request-activation', {
      identifier: asset.identifier,
      name: 'Again',
      group_id: trucks.id,
      plan: 'monthly',
    });
    expect(posted.headers.location).toBe(`/assets/${asset.id}`);
    expect(await assetCount()).toBe(count);
    expect(await requestsOf(asset.id)).toEqual([]);
  });

  it('says a device registered to another account is not theirs, whom to contact, and nothing else', async () => {
    const theirs = await makeAsset(rival.id, depot, { name: 'Secret name' });
    const count = await assetCount();
    const search = await asOwner.agent.get(`/assets/request-activation?identifier=${theirs.identifier}`);
    expect(search.text).toContain(
      'This device is registered to another account. If it should be yours, contact Fleetline Telematics.',
    );
    expect(search.text).not.toContain('Secret name');
    expect(search.text).not.toContain('Rival Freight');
    const posted = await post(asOwner, '/assets/request-activation', {
      identifier: theirs.identifier,
      name: '',
      group_id: '',
      plan: 'monthly',
    });
    expect(posted.status).toBe(422);
    expect(fieldError(posted.text, 'identifier')).toBe(
      'This device is registered to another account. If it should be yours, contact Fleetline Telematics.',
    );
    expect(await assetCount()).toBe(count);
  });

  it(
    'offers a new device’s form after the search, ' + 'and creates it waiting for activation with its request',
    async () => {
      const identifier = 'SN-NEW-0001';
      const search = await asFleet.agent.get(`/assets/request-activation?identifier=${identifier}`);
      expect(search.text).toContain('No device with this identifier is registered.');
      const swapped = await asFleet.agent
        .get(`/assets/request-activation?identifier=${identifier}`)
        .set('HX-Request', 'true');
      expect(swapped.text.trimStart()).toMatch(/^<div id="request-activation">/);
      expect(swapped.text).toContain('No device with this identifier is registered.');
      const options = [...search.text.matchAll(/<option value="([^"]*)"[^>]*>([^<]*)<\/option>/g)].map((m) =>
        decode(m[2]!),
      );
      expect(options.slice(0, 3)).toEqual(['Choose a group', 'Trucks', '\u00a0\u00a0\u00a0North']);
      expect(options).not.toContain('Vans');

      const outside = await post(asFleet, '/assets/request-activation', {
        identifier,
        name: 'New van',
        group_id: vans.id,
        plan: 'yearly',
      });
      expect(outside.status).toBe(422);
      expect(fieldError(outside.text, 'group_id')).toBe('Choose one of your groups.');
      expect(outside.text).toContain('value="New van"');

      const done = await follow(
        asFleet,
        await post(asFleet, '/assets/request-activation', {
          identifier,
          name: 'New truck',
          group_id: north.id,
          plan: 'yearly',
        }),
      );
      expect(done.text).toContain(
        `Activation requested for ${identifier}: ` +
          'it shows as Activation pending until Fleetline Telematics approves it.',
      );
      const asset = await db('assets').where({ tenant_id: tenant.id, identifier }).first();
      expect(asset).toMatchObject({
        status: 'activation_pending',
        plan: 'yearly',
        group_id: north.id,
        group_path: 'Trucks / North',
        customer_id: acme.id,
        name: 'New truck',
        term_start: null,
      });
      expect(await requestsOf(asset.id)).toMatchObject([
        { kind: 'activation', state: 'pending', requested_by: fleet.id },
      ]);
      expect(await auditOf(asset.id)).toMatchObject([
        {
          action: 'asset.activation_requested',
          customer_id: acme.id,
          after: { identifier, status: 'activation_pending' },
        },
      ]);
    },
  );

  it('explains a malformed identifier next to the field and creates nothing', async () => {
    const count = await assetCount();
    const search = await asOwner.agent.get('/assets/request-activation?identifier=ab%20c');
    expect(search.status).toBe(422);
    expect(fieldError(search.text, 'identifier')).toBe(
      'Use 4 to 32 letters, digits or hyphens (-), like an IMEI or a serial number.',
    );
    const posted = await post(asOwner, '/assets/request-activation', {
      identifier: 'x',
      name: '',
      group_id: '',
      plan: 'monthly',
    });
    expect(posted.status).toBe(422);
    expect(await assetCount()).toBe(count);
    expect((await asViewer.agent.get('/assets/request-activation')).status).toBe(403);
  });
});

describe('deleting a customer with assets', () => {
  it(
    'is refused while the customer has active assets, and allowed once none is, ' +
      'taking its inactive assets and groups with it',
    async () => {
      const leaving = await makeCustomer(db, tenant.id, { title: 'Leaving Ltd' });
      const yard = await makeGroup(leaving.id, 'Yard');
      const sub = await makeGroup(leaving.id, 'Back', yard);
      const user = await makeUser(db, { tenantId: tenant.id, role: 'group_admin', customerId: leaving.id });
      await db('membership_groups').insert({
        tenant_id: tenant.id,
        membership_id: user.membershipId,
        group_id: sub.id,
      });
      const live = await makeAsset(leaving.id, yard);
      const pending = await makeAsset(leaving.id, sub, { status: 'deactivation_pending' });
      const old = await makeAsset(leaving.id, sub, { status: 'deactivated', next_renewal_on: null });
      await db('asset_requests').insert({
        tenant_id: tenant.id,
        asset_id: old.id,
        customer_id: leaving.id,
        kind: 'deactivation',
        state: 'applied',
        requested_by_label: 'x',
      });

      const preview = await asStaff.agent.get(`/admin/customers/${leaving.id}/delete`);
      expect(preview.text).toContain(
        'It still has 2 active assets (active or waiting for deactivation); deactivate them first.',
      );
      const refused = await post(asStaff, `/admin/customers/${leaving.id}/delete`, { confirm_title: 'Leaving Ltd' });
      expect(refused.status).toBe(409);
      expect(await db('customers').where({ id: leaving.id }).first()).toBeDefined();

      await db('assets').whereIn('id', [live.id, pending.id]).update({ status: 'deactivated' });
      const done = await post(asStaff, `/admin/customers/${leaving.id}/delete`, { confirm_title: 'Leaving Ltd' });
      expect(done.status).toBe(303);
      expect(await db('customers').where({ id: leaving.id }).first()).toBeUndefined();
      expect(await db('assets').where({ customer_id: leaving.id })).toEqual([]);
      expect(await db('asset_requests').where({ customer_id: leaving.id })).toEqual([]);
      expect(await db('groups').where({ customer_id: leaving.id })).toEqual([]);
      expect(await db('asset_counts').where({ customer_id: leaving.id })).toEqual([]);
      expect(await db('membership_groups').where({ group_id: sub.id })).toEqual([]);
    },
  );
});
