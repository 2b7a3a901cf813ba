import { describe, expect, it } from 'vitest';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makePartner, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/**
 * "Your accounts" on the settings page (issue 21): every membership of the login that acts, named by its
 * customer, partner or provider and role, each switchable; never another login's, never a disabled one
 * or an invitation not yet accepted, and not at all while staff view as the person (it would name the
 * person's accounts with other providers).
 */

const { db } = await testDatabase();
const { app } = testApp({ db });
const first = await makeTenant(db, { name: 'First Provider' });
const second = await makeTenant(db, { name: 'Second Provider' });
const closed = await makeTenant(db, { name: 'Closed Provider' });
const harbour = await makeCustomer(db, first.id, { title: 'Harbour Freight' });
const dropped = await makeCustomer(db, first.id, { title: 'Dropped Haulage' });
const invitedTo = await makeCustomer(db, first.id, { title: 'Invited Logistics' });
const closedCustomer = await makeCustomer(db, closed.id, { title: 'Closed Carriers' });
const reseller = await makePartner(db, second.id, { name: 'Ridge Resellers' });
const strangers = await makeCustomer(db, second.id, { title: 'Stranger Shipping' });

const person = await makeUser(
  db,
  { tenantId: first.id, role: 'company_admin', customerId: harbour.id },
  { name: 'Many Hats' },
);
const addMembership = async (fields: Record<string, unknown>) => {
  const [row] = await db('memberships')
    .insert({ user_id: person.id, ...fields })
    .returning('id');
  return (row as { id: string }).id;
};
const staffOfSecond = await addMembership({ tenant_id: second.id, role: 'support_agent' });
const partnerOfSecond = await addMembership({ tenant_id: second.id, role: 'partner_viewer', partner_id: reseller.id });
const disabled = await addMembership({
  tenant_id: first.id,
  role: 'group_admin',
  customer_id: dropped.id,
  disabled_at: new Date(),
});
const invited = await addMembership({
  tenant_id: first.id,
  role: 'group_admin',
  customer_id: invitedTo.id,
  invited_at: new Date(),
  invited_name: 'Many Hats',
  invited_email: person.email,
  disabled_at: new Date(),
});
const inClosedTenant = await addMembership({
  tenant_id: closed.id,
  role: 'company_admin',
  customer_id: closedCustomer.id,
});
await db('tenants').where({ id: closed.id }).update({ disabled_at: new Date() });
const stranger = await makeUser(db, { tenantId: second.id, role: 'company_admin', customerId: strangers.id });
const support = await makeUser(db, { tenantId: first.id, role: 'support_agent' }, { name: 'Sam Support' });

/** The "Your accounts" section of a settings page, or null when the page has none. */
const accountsSection = (html: string): string | null =>
  /<section[^>]*id="accounts"[\s\S]*?<\/section>/.exec(html)?.[0] ?? null;

describe('your accounts on the settings page', () => {
  it('lists every account the login acts in, named and with its role, and which is current', async () => {
    const { agent } = await signedInAgent(app, person.email, TEST_PASSWORD);
    const page = await agent.get('/settings');
    expect(page.status).toBe(200);
    const section = accountsSection(page.text);
    expect(section).not.toBeNull();
    const rows = section!.match(/<tr>\s*<th scope="row">[\s\S]*?<\/tr>/g) ?? [];
    expect(rows).toHaveLength(3);
    const rowOf = (name: string) => rows.find((r) => r.includes(name)) ?? '';
    const [harbourRow, partnerRow, staffRow] = ['Harbour Freight', 'Ridge Resellers', 'row">Second Provider'].map(
      rowOf,
    );
    expect(harbourRow).toContain('Harbour Freight');
    expect(harbourRow).toContain('Company admin');
    expect(harbourRow).toContain('Current');
    expect(harbourRow).not.toContain('membership_id');
    expect(partnerRow).toContain('Ridge Resellers');
    expect(partnerRow).toContain(`value="${partnerOfSecond}"`);
    expect(staffRow).toContain('Second Provider');
    expect(staffRow).toContain('Support agent');
    expect(staffRow).toContain(`value="${staffOfSecond}"`);
    expect(staffRow).toContain('Switch<span class="visually-hidden"> to Second Provider as Support agent</span>');
    for (const absent of ['Dropped Haulage', 'Invited Logistics', 'Closed Carriers', 'Stranger Shipping'])
      expect(section).not.toContain(absent);
    for (const id of [disabled, invited, inClosedTenant]) expect(page.text).not.toContain(id);
    // the header's switcher names the same accounts
    const switcher = await agent.get('/session/membership');
    expect(switcher.text).toContain('Support agent</strong> of Second Provider');
    expect(switcher.text).toContain('Partner viewer</strong> of Ridge Resellers');
    expect(switcher.text).not.toContain('Invited Logistics');
  });

  it("switches from the settings page with the page's plain form", async () => {
    const { agent, csrf } = await signedInAgent(app, person.email, TEST_PASSWORD);
    const res = await agent
      .post('/session/membership')
      .type('form')
      .send({ membership_id: staffOfSecond, _csrf: csrf });
    expect(res.status).toBe(303);
    const page = await agent.get('/settings');
    const section = accountsSection(page.text)!;
    const current = /<tr>\s*<th scope="row">[^<]*Second Provider[\s\S]*?<\/tr>/.exec(section)?.[0];
    expect(current).toContain('Current');
    expect(section).toContain('Harbour Freight');
  });

  it('refuses a switch to a disabled account, a pending invitation, a disabled provider or another login', async () => {
    const { agent, csrf } = await signedInAgent(app, person.email, TEST_PASSWORD);
    const theirs = stranger.membershipId;
    for (const membership_id of [disabled, invited, inClosedTenant, theirs]) {
      const res = await agent.post('/session/membership').type('form').send({ membership_id, _csrf: csrf });
      expect(res.status).toBe(404);
    }
    const page = await agent.get('/settings');
    expect(/<tr>\s*<th scope="row">[^<]*Harbour Freight[\s\S]*?<\/tr>/.exec(page.text)?.[0]).toContain('Current');
  });

  it("another login's page lists only its own account, with no switch", async () => {
    const { agent } = await signedInAgent(app, stranger.email, TEST_PASSWORD);
    const page = await agent.get('/settings');
    const section = accountsSection(page.text)!;
    expect(section).toContain('Stranger Shipping');
    expect(section).not.toContain('Harbour Freight');
    expect(section).not.toContain('membership_id');
    expect(page.text).not.toContain('Switch role');
  });

  it('an invitation not yet accepted makes no role to switch to in the header', async () => {
    await db('memberships').insert({
      user_id: stranger.id,
      tenant_id: first.id,
      role: 'group_admin',
      customer_id: invitedTo.id,
      invited_at: new Date(),
      invited_name: 'Stranger',
      invited_email: stranger.email,
      disabled_at: new Date(),
    });
    const { agent } = await signedInAgent(app, stranger.email, TEST_PASSWORD);
    expect((await agent.get('/assets')).text).not.toContain('Switch role');
  });

  it('is left out while staff view as the person: it would name their accounts with other providers', async () => {
    const { agent, csrf } = await signedInAgent(app, support.email, TEST_PASSWORD);
    const start = await agent
      .post(`/admin/customers/${harbour.id}/users/${person.id}/view-as`)
      .type('form')
      .send({ _csrf: csrf });
    expect(start.status).toBe(303);
    const page = await agent.get('/settings');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Viewing as Many Hats');
    expect(accountsSection(page.text)).toBeNull();
    for (const elsewhere of ['Second Provider', 'Ridge Resellers', staffOfSecond, partnerOfSecond])
      expect(page.text).not.toContain(elsewhere);
    // and the switch itself is refused, as every write in a view
    const res = await agent
      .post('/session/membership')
      .type('form')
      .send({ membership_id: staffOfSecond, _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(403);
  });
});
