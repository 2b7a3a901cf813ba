import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeGroup, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { decode, fieldError } from '../support/forms.js';

/**
 * Staff device management under /admin/customers/:id/assets (issue 22): register, edit, move,
 * activate and deactivate directly, audited and in the asset's history; and the attacks on it.
 */

const { db } = await testDatabase();
const { app } = testApp({ db, clock: fixedClock('2026-11-24T09:00:00Z') });

const tenant = await makeTenant(db, { name: 'Fleetline Telematics' });
const acme = await makeCustomer(db, tenant.id, { title: 'Acme Haulage' });
const rival = await makeCustomer(db, tenant.id, { title: 'Rival Freight' });
const other = await makeTenant(db, { name: 'Other Provider' });
const otherCustomer = await makeCustomer(db, other.id, { title: 'Elsewhere Ltd' });

const trucks = await makeGroup(db, acme, { name: 'Trucks' });
const vans = await makeGroup(db, acme, { name: 'Vans' });
const depot = await makeGroup(db, rival, { name: 'Depot' });

const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }, { name: 'Stella Staff' });
const support = await makeUser(db, { tenantId: tenant.id, role: 'support_agent' });
const owner = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: acme.id });
const otherAdmin = await makeUser(db, { tenantId: other.id, role: 'tenant_admin' });

type Agent = Awaited<ReturnType<typeof signedInAgent>>;
const signIn = (email: string) => signedInAgent(app, email, TEST_PASSWORD);
const asAdmin = await signIn(admin.email);
const asSupport = await signIn(support.email);
const asOwner = await signIn(owner.email);
const asOtherAdmin = await signIn(otherAdmin.email);
const post = (who: Agent, path: string, fields: Record<string, string> = {}) =>
  who.agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: who.csrf });

const fieldValue = (html: string, id: string) =>
  decode(new RegExp(`id="f-${id}"[^>]* value="([^"]*)"`).exec(html)?.[1] ?? '');
const assetRow = (id: string) => db('assets').where({ tenant_id: tenant.id, id }).first();
const byIdentifier = (identifier: string) => db('assets').where({ tenant_id: tenant.id, identifier }).first();
const requestsOf = (assetId: string) =>
  db('asset_requests').where({ tenant_id: tenant.id, asset_id: assetId }).orderBy('requested_at').select();
const auditOf = (assetId: string) =>
  db('audit_log').where({ tenant_id: tenant.id, entity_type: 'asset', entity_id: assetId }).orderBy('id').select();

const base = `/admin/customers/${acme.id}/assets`;
let serial = 0;
const newIdentifier = () => `SD-${Date.now() % 1e6}-${++serial}`;

async function register(fields: Partial<Record<string, string>> = {}) {
  const identifier = fields.identifier ?? newIdentifier();
  const res = await post(asAdmin, base, { identifier, name: 'Truck 7', group_id: trucks.id, ...fields });
  return { res, identifier };
}

describe('registering a device', () => {
  it('registers it inactive in the chosen group, audited and in its history', async () => {
    const { res, identifier } = await register();
    expect(res.status).toBe(303);
    const asset = await byIdentifier(identifier);
    expect(res.headers.location).toBe(`${base}/${asset.id}`);
    expect(asset).toMatchObject({
      customer_id: acme.id,
      group_id: trucks.id,
      group_path: 'Trucks',
      status: 'inactive',
    });
    expect(asset.name).toBe('Truck 7');
    expect((await requestsOf(asset.id)).map((r) => [r.kind, r.state])).toEqual([['registration', 'applied']]);
    const [entry] = await auditOf(asset.id);
    expect(entry).toMatchObject({ action: 'asset.registered', customer_id: acme.id, actor_user_id: admin.id });
    const page = await asAdmin.agent.get(res.headers.location!);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Activate now');
  });

  it('says what is wrong next to each field and keeps what was typed', async () => {
    const res = await post(asAdmin, base, { identifier: 'a b', name: 'Keep me', group_id: trucks.id });
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'identifier')).toMatch(/4 to 32 letters/);
    expect(fieldValue(res.text, 'identifier')).toBe('a b');
    expect(fieldValue(res.text, 'name')).toBe('Keep me');
    expect(res.text).toMatch(new RegExp(`value="${trucks.id}" selected`));
  });

  it('refuses an identifier registered already, to any customer, next to the field', async () => {
    const taken = await makeAsset(db, { group: depot });
    const res = await post(asAdmin, base, { identifier: taken.identifier, name: 'Kept', group_id: vans.id });
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'identifier')).toBe(
      `${taken.identifier} is already registered, to Rival Freight. ` +
        'Each device is registered once: open it there, or check the identifier.',
    );
    expect(fieldValue(res.text, 'name')).toBe('Kept');
    expect(await db('assets').where({ tenant_id: tenant.id, identifier: taken.identifier }).count()).toEqual([
      { count: 1 },
    ]);
  });

  it('requires a group of that customer: none, or another customer’s, is refused', async () => {
    for (const group_id of ['', depot.id, 'not-an-id']) {
      const { res, identifier } = await register({ group_id });
      expect(res.status, group_id).toBe(422);
      expect(fieldError(res.text, 'group_id')).toBe('Choose one of the customer’s groups.');
      expect(await byIdentifier(identifier)).toBeUndefined();
    }
  });

  it('says a name too long is too long, rather than cutting it', async () => {
    const { res, identifier } = await register({ name: 'x'.repeat(201) });
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'name')).toBe('Keep the name to 200 characters or fewer.');
    expect(await byIdentifier(identifier)).toBeUndefined();
  });

  it('a double submit registers the device once; the second is told it is taken', async () => {
    const identifier = newIdentifier();
    const fields = { identifier, name: 'Twice', group_id: trucks.id };
    const [a, b] = await Promise.all([post(asAdmin, base, fields), post(asAdmin, base, fields)]);
    expect([a.status, b.status].sort()).toEqual([303, 422]);
    expect(await db('assets').where({ tenant_id: tenant.id, identifier }).count()).toEqual([{ count: 1 }]);
  });
});

describe('activating, editing, moving and deactivating', () => {
  it('activates at once; the customer sees it active with the staff member’s name in the history', async () => {
    const { res } = await register();
    const assetUrl = res.headers.location!;
    const assetId = assetUrl.split('/').pop()!;
    const done = await post(asAdmin, `${assetUrl}/activation`);
    expect(done.status).toBe(303);
    expect(await assetRow(assetId)).toMatchObject({ status: 'active', plan: 'monthly' });
    expect(String((await assetRow(assetId)).term_start)).toMatch(/2026/);
    expect((await requestsOf(assetId)).map((r) => [r.kind, r.state])).toEqual([
      ['registration', 'applied'],
      ['activation', 'applied'],
    ]);
    expect((await auditOf(assetId)).map((e) => e.action)).toEqual(['asset.registered', 'asset.activated']);
    const seen = await asOwner.agent.get(`/assets/${assetId}`);
    expect(seen.status).toBe(200);
    expect(seen.text).toContain('badge-active">Active<');
    expect(seen.text).toContain('Stella Staff (Fleetline Telematics)');
    expect(seen.text).toContain('Registration');
    // a second click: refused, nothing changes
    const again = await post(asAdmin, `${assetUrl}/activation`);
    expect(again.status).toBe(409);
    expect(await requestsOf(assetId)).toHaveLength(2);
  });

  it('two activations at once: one activates, the other is refused', async () => {
    const asset = await makeAsset(db, { group: trucks }, { status: 'inactive' });
    const url = `${base}/${asset.id}/activation`;
    const [a, b] = await Promise.all([post(asAdmin, url), post(asAdmin, url)]);
    expect([a.status, b.status].sort()).toEqual([303, 409]);
    expect((await requestsOf(asset.id)).filter((r) => r.kind === 'activation')).toHaveLength(1);
  });

  it('activating approves the customer’s pending activation request', async () => {
    const asset = await makeAsset(db, { group: trucks }, { status: 'inactive' });
    expect((await post(asOwner, `/assets/${asset.id}/activation-request`)).status).toBe(303);
    expect((await post(asAdmin, `${base}/${asset.id}/activation`)).status).toBe(303);
    expect((await requestsOf(asset.id)).map((r) => [r.kind, r.state, r.decided_by])).toEqual([
      ['activation', 'approved', admin.id],
    ]);
    expect((await assetRow(asset.id)).status).toBe('active');
  });

  it('edits the name and identifier; the history says what changed', async () => {
    const asset = await makeAsset(db, { group: trucks }, { name: 'Old name' });
    const identifier = newIdentifier();
    const res = await post(asAdmin, `${base}/${asset.id}`, { identifier, name: 'New name' });
    expect(res.status).toBe(303);
    expect(await assetRow(asset.id)).toMatchObject({ identifier, name: 'New name' });
    const [change] = await requestsOf(asset.id);
    expect(change).toMatchObject({ kind: 'details_change', state: 'applied' });
    expect(change.reason).toBe(`identifier ${asset.identifier} → ${identifier}; name “Old name” → “New name”`);
    const [entry] = await auditOf(asset.id);
    expect(entry.action).toBe('asset.details_changed');
    expect(entry.before).toMatchObject({ identifier: asset.identifier, name: 'Old name' });
    expect(entry.after).toMatchObject({ identifier, name: 'New name' });
    const seen = await asOwner.agent.get(`/assets/${asset.id}`);
    expect(decode(seen.text)).toContain(`identifier ${asset.identifier} → ${identifier}`);
  });

  it('refuses an identifier another asset has, next to the field, keeping the input', async () => {
    const asset = await makeAsset(db, { group: trucks }, { name: 'Mine' });
    const taken = await makeAsset(db, { group: depot });
    const res = await post(asAdmin, `${base}/${asset.id}`, { identifier: taken.identifier, name: 'Typed' });
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'identifier')).toMatch(/is already registered, to Rival Freight/);
    expect(fieldValue(res.text, 'identifier')).toBe(taken.identifier);
    expect(fieldValue(res.text, 'name')).toBe('Typed');
    expect(await assetRow(asset.id)).toMatchObject({ identifier: asset.identifier, name: 'Mine' });
  });

  it('moves to another group of the customer, never to another customer’s', async () => {
    const asset = await makeAsset(db, { group: trucks });
    const refused = await post(asAdmin, `${base}/${asset.id}/group`, { group_id: depot.id });
    expect(refused.status).toBe(422);
    expect(fieldError(refused.text, 'group_id')).toBe('Choose one of the listed groups.');
    expect((await assetRow(asset.id)).group_id).toBe(trucks.id);
    const moved = await post(asAdmin, `${base}/${asset.id}/group`, { group_id: vans.id });
    expect(moved.status).toBe(303);
    expect(await assetRow(asset.id)).toMatchObject({ group_id: vans.id, group_path: 'Vans' });
    expect((await auditOf(asset.id)).map((e) => e.action)).toEqual(['asset.moved']);
  });

  it('deactivates only after the confirmation page; a pending deactivation is applied by it', async () => {
    const asset = await makeAsset(db, { group: trucks }, { plan: 'monthly', term_start: '2026-11-01' });
    const confirm = await asAdmin.agent.get(`${base}/${asset.id}/deactivation`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain(`Deactivate ${asset.identifier} now`);
    const bare = await post(asAdmin, `${base}/${asset.id}/deactivation`);
    expect(bare.status).toBe(422);
    expect((await assetRow(asset.id)).status).toBe('active');
    expect((await post(asOwner, `/assets/${asset.id}/deactivation-request`)).status).toBe(303);
    const done = await post(asAdmin, `${base}/${asset.id}/deactivation`, { confirm: 'yes' });
    expect(done.status).toBe(303);
    expect(await assetRow(asset.id)).toMatchObject({ status: 'deactivated', next_renewal_on: null });
    expect((await requestsOf(asset.id)).map((r) => [r.kind, r.state])).toEqual([['deactivation', 'applied']]);
    expect((await auditOf(asset.id)).map((e) => e.action)).toEqual([
      'asset.deactivation_requested',
      'asset.deactivated',
    ]);
    const again = await post(asAdmin, `${base}/${asset.id}/deactivation`, { confirm: 'yes' });
    expect(again.status).toBe(409);
  });
});

describe('attacks on the staff device pages', () => {
  it('another tenant’s admin finds none of this customer’s pages, and changes nothing', async () => {
    const asset = await makeAsset(db, { group: trucks }, { status: 'inactive' });
    expect((await asOtherAdmin.agent.get(`${base}/new`)).status).toBe(404);
    expect((await asOtherAdmin.agent.get(`${base}/${asset.id}`)).status).toBe(404);
    const { identifier } = { identifier: newIdentifier() };
    expect((await post(asOtherAdmin, base, { identifier, name: 'x', group_id: trucks.id })).status).toBe(404);
    expect((await post(asOtherAdmin, `${base}/${asset.id}/activation`)).status).toBe(404);
    expect((await post(asOtherAdmin, `${base}/${asset.id}`, { identifier, name: 'x' })).status).toBe(404);
    expect(await byIdentifier(identifier)).toBeUndefined();
    expect((await assetRow(asset.id)).status).toBe('inactive');
  });

  it('a tenant admin naming another tenant’s customer gets 404', async () => {
    const url = `/admin/customers/${otherCustomer.id}/assets`;
    expect((await asAdmin.agent.get(`${url}/new`)).status).toBe(404);
    expect((await post(asAdmin, url, { identifier: newIdentifier(), name: 'x', group_id: '' })).status).toBe(404);
  });

  it('an asset of another customer under this customer’s address is not found, and not changed', async () => {
    const theirs = await makeAsset(db, { group: depot }, { status: 'inactive', name: 'Theirs' });
    const url = `${base}/${theirs.id}`;
    expect((await asAdmin.agent.get(url)).status).toBe(404);
    expect((await asAdmin.agent.get(`${url}/deactivation`)).status).toBe(404);
    expect((await post(asAdmin, `${url}/activation`)).status).toBe(404);
    expect((await post(asAdmin, url, { identifier: newIdentifier(), name: 'Mine now' })).status).toBe(404);
    expect((await post(asAdmin, `${url}/group`, { group_id: vans.id })).status).toBe(404);
    expect((await post(asAdmin, `${url}/deactivation`, { confirm: 'yes' })).status).toBe(404);
    expect(await assetRow(theirs.id)).toMatchObject({ status: 'inactive', name: 'Theirs', group_id: depot.id });
  });

  it('customer people posting to the staff addresses are refused (403)', async () => {
    const asset = await makeAsset(db, { group: trucks }, { status: 'inactive' });
    expect((await asOwner.agent.get(`${base}/${asset.id}`)).status).toBe(403);
    expect((await post(asOwner, base, { identifier: newIdentifier(), name: 'x', group_id: trucks.id })).status).toBe(
      403,
    );
    expect((await post(asOwner, `${base}/${asset.id}/activation`)).status).toBe(403);
    expect((await post(asOwner, `${base}/${asset.id}/deactivation`, { confirm: 'yes' })).status).toBe(403);
    expect((await assetRow(asset.id)).status).toBe('inactive');
  });

  it('a support agent sees the devices but changes none (403), and is offered no change', async () => {
    const asset = await makeAsset(db, { group: trucks }, { status: 'inactive' });
    const list = await asSupport.agent.get(base);
    expect(list.status).toBe(200);
    expect(list.text).not.toContain('Register a device');
    const page = await asSupport.agent.get(`${base}/${asset.id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('Activate now');
    expect(page.text).not.toContain('name="identifier"');
    expect((await asSupport.agent.get(`${base}/new`)).status).toBe(403);
    expect((await post(asSupport, `${base}/${asset.id}/activation`)).status).toBe(403);
    expect((await assetRow(asset.id)).status).toBe('inactive');
  });

  it('huge input is refused without a write or a crash', async () => {
    const identifier = newIdentifier();
    // over the body limit: refused before any handler
    const huge = await post(asAdmin, base, { identifier, name: 'x'.repeat(200_000), group_id: trucks.id });
    expect(huge.status).toBe(413);
    // under the body limit, far over the field's: said next to the field
    const long = await post(asAdmin, base, {
      identifier: 'A'.repeat(50_000),
      name: 'y'.repeat(40_000),
      group_id: trucks.id,
    });
    expect(long.status).toBe(422);
    expect(fieldError(long.text, 'identifier')).toMatch(/4 to 32 letters/);
    expect(fieldError(long.text, 'name')).toBe('Keep the name to 200 characters or fewer.');
    expect(await byIdentifier(identifier)).toBeUndefined();
  });
});

describe('registering many devices from a CSV file, through the import preview', () => {
  async function upload(csv: string) {
    const res = await asAdmin.agent
      .post(`/admin/imports?_csrf=${encodeURIComponent(asAdmin.csrf)}`)
      .field('kind', 'devices')
      .attach('file', Buffer.from(csv), 'devices.csv');
    expect(res.status).toBe(303);
    return res.headers.location!;
  }
  const account = async (c: { id: string }) =>
    ((await db('customers').where({ tenant_id: tenant.id, id: c.id }).first('account_id')) as { account_id: string })
      .account_id;

  it('is offered from the customer’s Assets tab, with the kind chosen', async () => {
    const list = await asAdmin.agent.get(base);
    expect(list.text).toContain('href="/admin/imports?kind=devices"');
    const page = await asAdmin.agent.get('/admin/imports?kind=devices');
    expect(page.text).toMatch(/<option value="devices" selected>/);
  });

  it('previews each row’s problems by the form’s rules and writes nothing', async () => {
    const taken = await makeAsset(db, { group: depot });
    const ok = newIdentifier();
    const csv =
      'account_id,identifier,name,group,plan\n' +
      `${await account(acme)},${ok},Fine,Trucks,yearly\n` +
      `${await account(acme)},${taken.identifier},Taken,Trucks,\n` +
      `${await account(acme)},${ok},Twice,Vans,\n` +
      `${await account(acme)},${newIdentifier()},Wrong group,Depot,\n` +
      `NO-SUCH,${newIdentifier()},Nobody,,\n` +
      `${await account(acme)},x y,Bad id,Trucks,weekly\n`;
    const url = await upload(csv);
    const page = decode((await asAdmin.agent.get(url)).text);
    expect(page).toContain('is registered already');
    expect(page).toContain('comes twice in the file');
    expect(page).toContain('names no group of this customer');
    expect(page).toContain('names no customer of yours');
    expect(page).toContain('must be monthly, quarterly or yearly');
    expect(page).toContain('4 to 32 letters');
    expect(await byIdentifier(ok)).toBeUndefined();
  });

  it('registers a clean file’s devices inactive, each in its history and the audit log', async () => {
    const [one, two] = [newIdentifier(), newIdentifier()];
    const csv =
      'account_id,identifier,name,group,plan\n' +
      `${await account(acme)},${one},CSV one,trucks,quarterly\n` +
      `${await account(rival)},${two},CSV two,Depot,\n`;
    const url = await upload(csv);
    expect((await asAdmin.agent.get(url)).text).toContain('All 2 rows passed the checks');
    expect((await post(asAdmin, `${url}/run`)).status).toBe(303);
    await expect.poll(async () => (await byIdentifier(two))?.status, { timeout: 20_000 }).toBe('inactive');
    expect(await byIdentifier(one)).toMatchObject({ customer_id: acme.id, group_id: trucks.id, plan: 'quarterly' });
    expect(await byIdentifier(two)).toMatchObject({ customer_id: rival.id, group_id: depot.id, plan: 'monthly' });
    const asset = await byIdentifier(one);
    expect((await requestsOf(asset.id)).map((r) => [r.kind, r.state, r.requested_by_label])).toEqual([
      ['registration', 'applied', 'Device import (CSV)'],
    ]);
    expect(await auditOf(asset.id)).toMatchObject([{ action: 'asset.registered', customer_id: acme.id }]);
  });
});
