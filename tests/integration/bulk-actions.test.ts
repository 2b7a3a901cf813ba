import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeGroup, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { decode } from '../support/forms.js';

const { db } = await testDatabase();
const NOW = '2026-11-24T09:00:00Z';
const { app } = testApp({ db, clock: fixedClock(NOW) });

// ---- a provider with two customers; Acme has Trucks (with North), Vans; Rival has Depot ----

const tenant = await makeTenant(db, { name: 'Fleetline Telematics' });
const acme = await makeCustomer(db, tenant.id, { title: 'Acme Haulage' });
const rival = await makeCustomer(db, tenant.id, { title: 'Rival Freight' });
const trucks = await makeGroup(db, acme, { name: 'Trucks' });
const north = await makeGroup(db, acme, { name: 'North', parent: trucks });
const vans = await makeGroup(db, acme, { name: 'Vans' });
const depot = await makeGroup(db, rival, { name: 'Depot' });

const owner = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: acme.id });
const fleet = await makeUser(db, { tenantId: tenant.id, role: 'group_admin', customerId: acme.id });
const viewer = await makeUser(db, { tenantId: tenant.id, role: 'group_supervisor', customerId: acme.id });
const staff = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const rivalOwner = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: rival.id });
for (const m of [fleet, viewer])
  await db('membership_groups').insert({ tenant_id: tenant.id, membership_id: m.membershipId, group_id: trucks.id });

type Agent = Awaited<ReturnType<typeof signedInAgent>>;
const signIn = (email: string) => signedInAgent(app, email, TEST_PASSWORD);
const asOwner = await signIn(owner.email);
const asFleet = await signIn(fleet.email);
const asViewer = await signIn(viewer.email);
const asStaff = await signIn(staff.email);
const asRival = await signIn(rivalOwner.email);

/** A form post as the list's bulk form sends it: ids go as `ids[]`, repeated. */
function post(who: Agent, path: string, fields: Record<string, string | string[]> = {}) {
  const body = new URLSearchParams({ _csrf: who.csrf });
  for (const [k, v] of Object.entries(fields)) for (const x of [v].flat()) body.append(k, x);
  return who.agent.post(path).type('form').send(body.toString());
}
const bulkIdOf = (res: { status: number; headers: Record<string, string> }) => {
  expect(res.status).toBe(303);
  return /\/assets\/bulk\/([0-9a-f-]{36})/.exec(res.headers.location!)![1]!;
};
const assetRow = (id: string) => db('assets').where({ tenant_id: tenant.id, id }).first();
const auditOf = (id: string) =>
  db('audit_log').where({ tenant_id: tenant.id, entity_type: 'asset', entity_id: id }).orderBy('id');
const yearly = { plan: 'yearly' as const, term_start: '2026-03-15', term_end: '2027-03-14' };

describe('the bulk controls on the asset list', () => {
  it('shows a company admin a labelled checkbox per row, "select all that match" and a live count', async () => {
    const a = await makeAsset(db, { group: vans }, { name: 'Listed van' });
    const page = await asOwner.agent.get('/assets?q=listed');
    expect(page.status).toBe(200);
    expect(page.text).toContain(`name="ids[]" value="${a.id}"`);
    expect(page.text).toContain(
      `<label for="pick-${a.id}" class="visually-hidden">Select ${a.identifier} (Listed van)`,
    );
    expect(page.text).toContain('name="all" value="1"');
    expect(page.text).toContain('aria-live="polite" data-bulk-count');
    expect(page.text).toContain('<input type="hidden" name="q" value="listed">');
    expect(page.text).toContain('bulk-select.js');
  });

  it('shows a group supervisor no bulk controls, and refuses a hand-made bulk post (403)', async () => {
    const a = await makeAsset(db, { group: trucks });
    const page = await asViewer.agent.get('/assets');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('data-bulk-form');
    expect(page.text).not.toContain('name="ids[]"');
    const res = await post(asViewer, '/assets/bulk', { action: 'deactivate', 'ids[]': [a.id] });
    expect(res.status).toBe(403);
    expect((await assetRow(a.id)).status).toBe('active');
  });

  it('refuses staff on the customer bulk routes (403): they manage devices from the customer pages', async () => {
    const a = await makeAsset(db, { group: trucks });
    expect((await post(asStaff, '/assets/bulk', { action: 'deactivate', 'ids[]': [a.id] })).status).toBe(403);
  });
});

describe('a bulk move', () => {
  it('previews per asset, skipping with reasons, then moves all at once with requests and audit entries', async () => {
    const dest = await makeGroup(db, acme, { name: 'Move target A' });
    const movers = [
      await makeAsset(db, { group: vans }, { name: 'Mover one' }),
      await makeAsset(db, { group: vans }, { name: 'Mover two' }),
    ];
    const already = await makeAsset(db, { group: dest }, { name: 'Already there' });
    const ids = [...movers, already].map((a) => a.id);

    const res = await post(asOwner, '/assets/bulk', { action: 'move', group_id: dest.id, 'ids[]': ids });
    const id = bulkIdOf(res);
    const preview = await asOwner.agent.get(`/assets/bulk/${id}`);
    expect(preview.status).toBe(200);
    const text = decode(preview.text);
    expect(text).toContain('Of 3 selected assets, 2 will be moved to Move target A; 1 asset will be skipped');
    expect(text).toContain('Skipped: Already in this group.');
    expect(text).toContain('Will move to Move target A');
    expect(text).toContain('Confirm for 2 assets');
    // nothing happened yet
    expect((await assetRow(movers[0]!.id)).group_id).toBe(vans.id);

    const done = await post(asOwner, `/assets/bulk/${id}`);
    expect(done.status).toBe(303);
    const result = decode((await asOwner.agent.get(done.headers.location!)).text);
    expect(result).toContain('Done: 2 assets moved to Move target A; 1 asset skipped');
    for (const m of movers) {
      const row = await assetRow(m.id);
      expect([row.group_id, row.group_path]).toEqual([dest.id, 'Move target A']);
      const audit = await auditOf(m.id);
      expect(audit.at(-1)).toMatchObject({
        action: 'asset.moved',
        actor_user_id: owner.id,
        customer_id: acme.id,
        before: { identifier: m.identifier, group_id: vans.id, group_path: 'Vans' },
        after: { identifier: m.identifier, group_id: dest.id, group_path: 'Move target A' },
      });
      const request = await db('asset_requests').where({ tenant_id: tenant.id, asset_id: m.id }).first();
      expect(request).toMatchObject({
        kind: 'group_move',
        state: 'applied',
        from_group_id: vans.id,
        to_group_id: dest.id,
      });
    }
    expect(await auditOf(already.id)).toHaveLength(0);
    // the tab counters follow, kept set-wise while the per-row trigger stands aside
    const counted = await db('asset_counts')
      .where({ tenant_id: tenant.id, customer_id: acme.id, group_key: dest.id, status: 'active' })
      .first('n');
    expect(Number(counted.n)).toBe(3);
    const real = await db.raw(
      `select count(*)::int = coalesce((select sum(n)::int from asset_counts where tenant_id = ?), 0) as ok
         from assets where tenant_id = ?`,
      [tenant.id, tenant.id],
    );
    expect(real.rows[0].ok).toBe(true);

    const csv = await asOwner.agent.get(`/assets/bulk/${id}.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.text).toContain('Identifier,Name,Result,Detail,Effective on');
    expect(csv.text).toContain(`${movers[0]!.identifier},Mover one,Done,Moved to Move target A,`);
    expect(csv.text).toContain(`${already.identifier},Already there,Skipped,Already in this group.,`);

    // confirming again changes nothing
    expect((await post(asOwner, `/assets/bulk/${id}`)).status).toBe(303);
    expect(await auditOf(movers[0]!.id)).toHaveLength(1);
  });

  it('selects all assets matching the filter on the server, across pages, not the ids the browser had', async () => {
    const dest = await makeGroup(db, acme, { name: 'Move target B' });
    const matching = [];
    for (let i = 0; i < 30; i++) matching.push(await makeAsset(db, { group: vans }, { name: `Filterfleet ${i}` }));
    const inactive = await makeAsset(db, { group: vans }, { name: 'Filterfleet idle', status: 'inactive' });
    const res = await post(asOwner, '/assets/bulk', {
      action: 'move',
      group_id: dest.id,
      all: '1',
      tab: 'active',
      q: 'filterfleet',
      // ids sent beside all=1 are ignored: the filter decides
      'ids[]': [inactive.id],
    });
    const id = bulkIdOf(res);
    expect((await post(asOwner, `/assets/bulk/${id}`)).status).toBe(303);
    const moved = await db('assets').where({ tenant_id: tenant.id, group_id: dest.id }).pluck('id');
    expect(moved.sort()).toEqual(matching.map((a) => a.id).sort());
    expect((await assetRow(inactive.id)).group_id).toBe(vans.id);
  });

  it('refuses a move to a group outside the customer with the form again (422), and moves nothing', async () => {
    const a = await makeAsset(db, { group: vans });
    const res = await post(asOwner, '/assets/bulk', { action: 'move', group_id: depot.id, 'ids[]': [a.id] });
    expect(res.status).toBe(422);
    expect(decode(res.text)).toContain('Choose one of the listed groups.');
    expect(res.text).toContain(`name="ids[]" value="${a.id}"`);
    expect((await post(asOwner, '/assets/bulk', { 'ids[]': [a.id] })).status).toBe(422);
    expect((await post(asOwner, '/assets/bulk', { action: 'move', group_id: vans.id })).status).toBe(422);
  });
});

describe('bulk actions and reach', () => {
  it('gives a group admin selecting all only the assets of their groups, even with a crafted filter', async () => {
    const inTrucks = await makeAsset(db, { group: north }, { name: 'Reachzone truck' });
    const inVans = await makeAsset(db, { group: vans }, { name: 'Reachzone van' });
    const inRival = await makeAsset(db, { group: depot }, { name: 'Reachzone depot' });
    const res = await post(asFleet, '/assets/bulk', { action: 'export', all: '1', q: 'reachzone', tab: 'bogus' });
    expect(res.status).toBe(303);
    const csv = await asFleet.agent.get(res.headers.location!);
    expect(csv.text).toContain(inTrucks.identifier);
    expect(csv.text).not.toContain(inVans.identifier);
    expect(csv.text).not.toContain(inRival.identifier);
  });

  it("refuses ids outside the actor's reach or not ids at all (404), and changes nothing", async () => {
    const mine = await makeAsset(db, { group: trucks });
    const vansAsset = await makeAsset(db, { group: vans });
    const rivals = await makeAsset(db, { group: depot });
    // a group admin of Trucks: a Vans asset is out of reach
    expect(
      (await post(asFleet, '/assets/bulk', { action: 'deactivate', 'ids[]': [mine.id, vansAsset.id] })).status,
    ).toBe(404);
    // a company admin of Acme cannot touch Rival's assets
    expect((await post(asOwner, '/assets/bulk', { action: 'deactivate', 'ids[]': [rivals.id] })).status).toBe(404);
    expect((await post(asRival, '/assets/bulk', { action: 'deactivate', 'ids[]': [mine.id] })).status).toBe(404);
    expect((await post(asOwner, '/assets/bulk', { action: 'deactivate', 'ids[]': ['not-an-id'] })).status).toBe(404);
    for (const a of [mine, vansAsset, rivals]) expect((await assetRow(a.id)).status).toBe('active');
    const requests = await db('asset_requests')
      .where({ tenant_id: tenant.id })
      .whereIn('asset_id', [mine.id, vansAsset.id, rivals.id]);
    expect(requests).toHaveLength(0);
  });

  it('shows a bulk action to the person who made it only (404 for another admin of the same customer)', async () => {
    const a = await makeAsset(db, { group: trucks });
    const id = bulkIdOf(await post(asOwner, '/assets/bulk', { action: 'deactivate', 'ids[]': [a.id] }));
    const otherOwner = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: acme.id });
    const asOther = await signIn(otherOwner.email);
    expect((await asOther.agent.get(`/assets/bulk/${id}`)).status).toBe(404);
    expect((await post(asOther, `/assets/bulk/${id}`)).status).toBe(404);
    expect((await asRival.agent.get(`/assets/bulk/${id}.csv`)).status).toBe(404);
    expect((await assetRow(a.id)).status).toBe('active');
  });

  it("skips at confirmation an asset that left the actor's reach after the preview", async () => {
    const a = await makeAsset(db, { group: trucks }, yearly);
    const b = await makeAsset(db, { group: trucks }, yearly);
    const id = bulkIdOf(await post(asFleet, '/assets/bulk', { action: 'deactivate', 'ids[]': [a.id, b.id] }));
    await db('assets').where({ id: b.id }).update({ group_id: vans.id, group_path: 'Vans' });
    await post(asFleet, `/assets/bulk/${id}`);
    expect((await assetRow(a.id)).status).toBe('deactivation_pending');
    expect((await assetRow(b.id)).status).toBe('active');
    const page = decode((await asFleet.agent.get(`/assets/bulk/${id}`)).text);
    expect(page).toContain('Done: deactivation requested for 1 asset; 1 asset skipped');
    expect(page).toContain('Skipped: No longer in your reach.');
  });
});

describe('bulk deactivation, cancellation and renewal confirmation', () => {
  it("shows each asset's effective date before confirming, and requests deactivation with that date", async () => {
    const y = await makeAsset(db, { group: trucks }, { ...yearly, name: 'Yearly one' });
    const m = await makeAsset(
      db,
      { group: trucks },
      { plan: 'monthly', term_start: '2026-11-01', term_end: '2026-11-30' },
    );
    const idle = await makeAsset(db, { group: trucks }, { status: 'inactive' });
    const id = bulkIdOf(await post(asOwner, '/assets/bulk', { action: 'deactivate', 'ids[]': [y.id, m.id, idle.id] }));
    const preview = decode((await asOwner.agent.get(`/assets/bulk/${id}`)).text);
    expect(preview).toContain('Deactivation will be requested: it takes effect on 14 March 2027');
    expect(preview).toContain('Deactivation will be requested: it takes effect on 30 November 2026');
    expect(preview).toContain('Skipped: Only an active asset can be deactivated; this one is inactive.');
    await post(asOwner, `/assets/bulk/${id}`);
    const request = await db('asset_requests').where({ tenant_id: tenant.id, asset_id: y.id }).first();
    expect(request).toMatchObject({ kind: 'deactivation', state: 'pending' });
    expect(String(request.effective_on)).toContain('2027');
    expect((await assetRow(y.id)).status).toBe('deactivation_pending');
    expect((await auditOf(m.id)).at(-1)).toMatchObject({
      action: 'asset.deactivation_requested',
      after: { status: 'deactivation_pending', effective_on: '2026-11-30' },
    });
    expect((await assetRow(idle.id)).status).toBe('inactive');

    // and withdrawn the same way: the assets stay active
    const cancel = bulkIdOf(
      await post(asOwner, '/assets/bulk', { action: 'cancel-deactivation', 'ids[]': [y.id, m.id, idle.id] }),
    );
    await post(asOwner, `/assets/bulk/${cancel}`);
    expect((await assetRow(y.id)).status).toBe('active');
    expect(
      await db('asset_requests').where({ tenant_id: tenant.id, asset_id: y.id, kind: 'deactivation' }).pluck('state'),
    ).toEqual(['cancelled']);
    expect((await auditOf(y.id)).at(-1)).toMatchObject({ action: 'asset.deactivation_cancelled' });
    const page = decode((await asOwner.agent.get(`/assets/bulk/${cancel}`)).text);
    expect(page).toContain('Done: deactivation cancelled for 2 assets; 1 asset skipped');
  });

  it('skips at confirmation an asset someone acted on since the preview, with the reason', async () => {
    const a = await makeAsset(db, { group: trucks }, yearly);
    const id = bulkIdOf(await post(asOwner, '/assets/bulk', { action: 'deactivate', 'ids[]': [a.id] }));
    await post(asFleet, `/assets/${a.id}/deactivation-request`);
    await post(asOwner, `/assets/bulk/${id}`);
    const page = decode((await asOwner.agent.get(`/assets/bulk/${id}`)).text);
    expect(page).toContain('Skipped: Changed since the preview: A deactivation of this asset is already pending');
    expect(await db('asset_requests').where({ tenant_id: tenant.id, asset_id: a.id })).toHaveLength(1);
  });

  it('confirms automatic renewals in bulk and clears the danger flag', async () => {
    const flagged = await makeAsset(db, { group: trucks }, { ...yearly, renewal_unconfirmed: true });
    const plain = await makeAsset(db, { group: trucks }, yearly);
    const id = bulkIdOf(
      await post(asFleet, '/assets/bulk', { action: 'confirm-renewal', 'ids[]': [flagged.id, plain.id] }),
    );
    await post(asFleet, `/assets/bulk/${id}`);
    expect((await assetRow(flagged.id)).renewal_unconfirmed).toBe(false);
    expect((await auditOf(flagged.id)).at(-1)).toMatchObject({ action: 'asset.renewal_confirmed' });
    const page = decode((await asFleet.agent.get(`/assets/bulk/${id}`)).text);
    expect(page).toContain('Skipped: This asset has no automatic renewal waiting for your confirmation.');
  });
});

describe('the tab counters after every bulk action above', () => {
  it('match the assets, group by group and status by status', async () => {
    const { rows } = await db.raw(
      `select a.customer_id, coalesce(a.group_id, '00000000-0000-0000-0000-000000000000') as g, a.status,
              count(*)::int as real, max(c.n)::int as kept
         from assets a
         left join asset_counts c on c.tenant_id = a.tenant_id and c.customer_id = a.customer_id
          and c.group_key = coalesce(a.group_id, '00000000-0000-0000-0000-000000000000') and c.status = a.status
        where a.tenant_id = ?
        group by 1, 2, 3`,
      [tenant.id],
    );
    for (const r of rows as { real: number; kept: number }[]) expect(r.kept).toBe(r.real);
  });
});
