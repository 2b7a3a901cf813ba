import type { ParsedMail } from 'mailparser';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { applyDeactivations } from '../../src/jobs/apply-deactivations.js';
import { renewSubscriptions } from '../../src/jobs/renew-subscriptions.js';
import { renewalReminders } from '../../src/jobs/renewal-reminders.js';
import { runJob } from '../../src/jobs/scheduler.js';
import { sendMail } from '../../src/jobs/send-mail.js';
import { confirmRenewal, requestDeactivation } from '../../src/services/assets/requests.js';
import { loadActor } from '../../src/services/people/sign-in.js';
import { createMailTransport } from '../../src/services/mail/transport.js';
import { unsubscribe, unsubscribeToken } from '../../src/services/mail/notifications.js';
import { renewDueSubscriptions } from '../../src/services/assets/renewals.js';
import {
  addDays,
  currentTerm,
  termFor,
  todayIn,
  type Day,
  type Plan,
} from '../../src/services/assets/subscription-rules.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser } from '../support/factories.js';
import { startSmtpCatcher } from '../support/smtp.js';

const { db } = await testDatabase();
const smtp = await startSmtpCatcher();
const transport = createMailTransport(smtp.url, 'Portico <no-reply@portico.test>');
afterAll(async () => {
  transport?.close();
  await smtp.close();
});

const clock = fixedClock('2026-12-01T06:00:00Z');
const links = { baseUrl: 'https://portal.example.test', secret: 'test-secret-that-is-long-enough-for-the-check' };
const ctx = { db, clock, mail: transport, links };
const at = (day: Day, time = '06:00') => clock.set(`${day}T${time}:00Z`);
/** the reminder job (twice, as a rerun would) and then the mail sender, as the schedule runs them */
async function reminderDay(day: Day) {
  at(day);
  await runJob(renewalReminders, ctx);
  await runJob(renewalReminders, ctx);
  clock.advance(60_000);
  await runJob(sendMail, ctx);
}

// ---- Acme Haulage: groups Trucks > North and Vans, and the people around them ----

const tenant = await makeTenant(db, { name: 'Fleetline Telematics' });
const acme = await makeCustomer(db, tenant.id, { title: 'Acme Haulage' });
const rival = await makeCustomer(db, tenant.id, { title: 'Rival Freight' });

async function makeGroup(customerId: string, name: string, parent?: { id: string; path: string }) {
  const path = parent ? `${parent.path} / ${name}` : name;
  const [row] = await db('groups')
    .insert({ tenant_id: tenant.id, customer_id: customerId, parent_id: parent?.id ?? null, name, path })
    .returning(['id', 'path']);
  return row as { id: string; path: string };
}

let serial = 0;
type AssetFields = Partial<{
  status: string;
  plan: Plan;
  start: Day;
  renewal_unconfirmed: boolean;
  name: string;
  tenantId: string;
}>;
async function makeAsset(customerId: string, group: { id: string; path: string } | null, fields: AssetFields = {}) {
  const plan = fields.plan ?? 'yearly';
  const term = termFor(plan, fields.start ?? '2026-01-10');
  const [row] = await db('assets')
    .insert({
      tenant_id: fields.tenantId ?? tenant.id,
      customer_id: customerId,
      group_id: group?.id ?? null,
      group_path: group?.path ?? '',
      identifier: `35${String(++serial).padStart(10, '0')}`,
      name: fields.name ?? `Truck ${serial}`,
      status: fields.status ?? 'active',
      plan,
      term_start: term.termStart,
      term_end: term.termEnd,
      next_renewal_on: term.nextRenewalOn,
      renewal_unconfirmed: fields.renewal_unconfirmed ?? false,
    })
    .returning(['id', 'identifier']);
  return row as { id: string; identifier: string };
}
/**
 * An asset's subscription as the portal shows it on the clock's day: a monthly plan's term is not
 * stored month by month but derived (currentTerm), so it is read through that rule.
 */
async function assetRow(id: string) {
  const row = await db('assets').where({ id }).first<{
    status: string;
    plan: Plan;
    term_start: Day;
    term_end: Day;
    next_renewal_on: Day | null;
    renewal_unconfirmed: boolean;
  }>('status', 'plan', 'term_start', 'term_end', 'next_renewal_on', 'renewal_unconfirmed');
  const { plan, ...stored } = row!;
  const term = currentTerm(
    { plan, status: stored.status, termStart: stored.term_start, termEnd: stored.term_end },
    todayIn('UTC', clock.now()),
  );
  return { ...stored, term_start: term.termStart, term_end: term.termEnd };
}

const trucks = await makeGroup(acme.id, 'Trucks');
const north = await makeGroup(acme.id, 'North', trucks);
const vans = await makeGroup(acme.id, 'Vans');

const owner = await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: acme.id },
  { name: 'Olga Owner', email: 'olga@acme.test' },
);
const quietOwner = await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: acme.id },
  { name: 'Quentin Quiet', email: 'quentin@acme.test' },
);
const fleet = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_admin', customerId: acme.id },
  { name: 'Fred Fleet', email: 'fred@acme.test' },
);
const gone = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_admin', customerId: acme.id },
  { name: 'Gina Gone', email: 'gina@acme.test', status: 'disabled' },
);
const vanViewer = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_supervisor', customerId: acme.id },
  { email: 'vera@acme.test' },
);
const rivalOwner = await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: rival.id },
  { email: 'rita@rival.test' },
);
// assigned to Trucks too, but Acme disabled her membership: her login goes on serving another customer
const disabledHere = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_admin', customerId: acme.id },
  { name: 'Dina Elsewhere', email: 'dina@acme.test' },
);
await db('memberships').where({ id: disabledHere.membershipId }).update({ disabled_at: new Date() });
await db('memberships').insert({
  tenant_id: tenant.id,
  user_id: disabledHere.id,
  role: 'company_admin',
  customer_id: rival.id,
});
await db('membership_groups').insert([
  { tenant_id: tenant.id, membership_id: disabledHere.membershipId, group_id: trucks.id },
  { tenant_id: tenant.id, membership_id: fleet.membershipId, group_id: trucks.id }, // the parent group: reaches North
  { tenant_id: tenant.id, membership_id: gone.membershipId, group_id: north.id },
  { tenant_id: tenant.id, membership_id: vanViewer.membershipId, group_id: vans.id },
]);
// Quentin turns renewal reminders off with the link in a mail: allowed, since Olga still gets them
await unsubscribe(db, links.secret, unsubscribeToken(links.secret, quietOwner.id, 'renewal_reminders'));

// renewing on 10 January 2027: a yearly asset in North and one in Trucks
const RENEWAL: Day = '2027-01-10';
const northTruck = await makeAsset(acme.id, north, { name: 'North truck' });
const trucksTruck = await makeAsset(acme.id, trucks, { name: 'Yard truck' });
// nobody hears about these: a monthly plan, a renewal awaiting confirmation, a deactivation pending
await makeAsset(acme.id, north, { plan: 'monthly', start: '2026-12-01' });
await makeAsset(acme.id, north, { renewal_unconfirmed: true });
await makeAsset(acme.id, north, { status: 'deactivation_pending' });
// another customer's, renewing the same day: its own company admin hears of it, and only of it
const rivalTruck = await makeAsset(rival.id, null);

const ownerActor = (await loadActor(db, owner.id, owner.membershipId))!;
const to = (m: ParsedMail) => (m.to as { text: string }).text;
const mailsTo = (email: string) => smtp.messages.filter((m) => to(m) === email);
const header = (m: ParsedMail, name: string) =>
  m.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]+:\s*/, '');

describe('renewal reminders', () => {
  it(
    'walks a yearly subscription through 28, 21, 14 and 7 days before renewal: four mails per recipient, ' +
      'and reruns send nothing more',
    async () => {
      const arrivals: Record<string, Day[]> = {};
      for (let day: Day = '2026-12-10'; day < RENEWAL; day = addDays(day, 1)) {
        const before = smtp.messages.length;
        await reminderDay(day);
        for (const m of smtp.messages.slice(before)) (arrivals[to(m)] ??= []).push(day);
      }
      // 28, 21, 14 and 7 days before 10 January 2027
      const weeks = ['2026-12-13', '2026-12-20', '2026-12-27', '2027-01-03'];
      // Dina hears of Rival's truck, as its company admin, and of nothing of Acme's
      expect(arrivals).toEqual({
        'olga@acme.test': weeks,
        'fred@acme.test': weeks,
        'rita@rival.test': weeks,
        'dina@acme.test': weeks,
      });
      expect(mailsTo(disabledHere.email).some((m) => m.text!.includes(northTruck.identifier))).toBe(false);
      // nobody else: not the unsubscribed admin, not the disabled user, not the Vans supervisor
      expect(mailsTo(quietOwner.email)).toEqual([]);
      expect(mailsTo(gone.email)).toEqual([]);
      expect(mailsTo(vanViewer.email)).toEqual([]);
      const rivalMail = mailsTo(rivalOwner.email)[0]!;
      expect(rivalMail.subject).toBe(`Renewal reminder: ${rivalTruck.identifier} renews on 10 January 2027`);
      expect(rivalMail.text).not.toContain(northTruck.identifier);
    },
  );

  it('lists every asset due in one mail, says why the person gets it, and offers one-click unsubscribe', () => {
    const [first] = mailsTo(owner.email);
    expect(first!.subject).toBe('Renewal reminder: 2 subscriptions renew within 4 weeks');
    expect(first!.text).toContain('Hello Olga Owner');
    expect(first!.text).toContain(
      `${northTruck.identifier} (North truck), Trucks / North: yearly plan, renews on 10 January 2027 (in 28 days)`,
    );
    expect(first!.text).toContain(
      `${trucksTruck.identifier} (Yard truck), Trucks: yearly plan, renews on 10 January 2027 (in 28 days)`,
    );
    expect(first!.text).toContain(`${links.baseUrl}/assets/${northTruck.id}`);
    expect(first!.text).toContain('Why you get this mail: you are a company admin of Acme Haulage.');
    const unsubscribeLink =
      `${links.baseUrl}/unsubscribe/` + unsubscribeToken(links.secret, owner.id, 'renewal_reminders');
    expect(first!.text).toContain(`Stop renewal reminders: ${unsubscribeLink}`);
    expect(header(first!, 'list-unsubscribe')).toBe(`<${unsubscribeLink}>`);
    expect(header(first!, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');

    const last = mailsTo(fleet.email).at(-1)!;
    expect(last.text).toContain('Why you get this mail: you are assigned to the group Trucks.');
    expect(last.text).toContain('renews on 10 January 2027 (in 7 days)');
  });

  it('sends a missed week on the next run, and never two mails for the same week', async () => {
    // a quarterly asset whose 28- and 21-day days pass while the job is down: the next run sends week 2 only
    const van = await makeAsset(acme.id, vans, { plan: 'quarterly', start: '2027-01-20' }); // renews 20 April 2027
    const before = mailsTo(owner.email).length;
    await reminderDay('2027-03-23'); // 28 days before: due
    await reminderDay('2027-03-24');
    await reminderDay('2027-04-01'); // 19 days before: week 2 (21 days) was missed, then it is sent once
    await reminderDay('2027-04-02');
    const sent = mailsTo(owner.email).slice(before);
    expect(sent.map((m) => m.text!.match(/\(in (\d+) days\)/)![1])).toEqual(['28', '19']);
    expect(sent.every((m) => m.text!.includes(van.identifier))).toBe(true);
    expect(mailsTo(vanViewer.email).length).toBe(2); // assigned to Vans
  });
});

describe('renewal day, confirmation and deactivation', () => {
  it('renews the term on the renewal day, flags it, and not a day earlier', async () => {
    at('2027-01-09', '00:05');
    await runJob(renewSubscriptions, ctx);
    expect(await assetRow(northTruck.id)).toMatchObject({ term_end: '2027-01-09', renewal_unconfirmed: false });

    at(RENEWAL, '00:05');
    const first = await runJob(renewSubscriptions, ctx);
    // the two trucks, the one already awaiting confirmation, and Rival's
    expect(first.counts).toMatchObject({ renewed: 4 });
    expect(await assetRow(northTruck.id)).toEqual({
      status: 'active',
      term_start: '2027-01-10',
      term_end: '2028-01-09',
      next_renewal_on: '2028-01-10',
      renewal_unconfirmed: true,
    });
    const again = await runJob(renewSubscriptions, ctx);
    expect(again.counts).toMatchObject({ renewed: 0, rolled_over: 0 });
    const entry = await db('audit_log')
      .where({ tenant_id: tenant.id, entity_id: northTruck.id, action: 'asset.renewed_automatically' })
      .first('actor_label', 'before', 'after');
    expect(entry).toMatchObject({
      actor_label: 'Automatic renewal',
      before: { term_end: '2027-01-09' },
      after: { term_end: '2028-01-09', renewal_unconfirmed: true },
    });
  });

  it('sends no reminder for a renewal awaiting confirmation, and the confirmation clears the flag', async () => {
    const before = smtp.messages.length;
    await reminderDay(RENEWAL);
    expect(smtp.messages.length).toBe(before);
    await confirmRenewal(db, ownerActor, northTruck.id);
    expect(await assetRow(northTruck.id)).toMatchObject({ renewal_unconfirmed: false, term_end: '2028-01-09' });
  });

  it('makes a deactivation requested mid-term effective on its date and not a day earlier', async () => {
    const asset = await makeAsset(acme.id, vans, { start: '2026-03-15' }); // term ends 14 March 2027
    at('2026-12-05', '10:00');
    const { effectiveOn } = await requestDeactivation(db, ownerActor, asset.id, clock.now());
    expect(effectiveOn).toBe('2027-03-14');
    for (const day of ['2027-01-01', '2027-03-13']) {
      at(day, '00:05');
      await runJob(renewSubscriptions, ctx);
      at(day, '00:10');
      await runJob(applyDeactivations, ctx);
      expect((await assetRow(asset.id))!.status).toBe('deactivation_pending');
    }
    at('2027-03-14', '00:10');
    expect((await runJob(applyDeactivations, ctx)).count).toBe(1);
    expect(await assetRow(asset.id)).toMatchObject({
      status: 'deactivated',
      next_renewal_on: null,
      term_end: '2027-03-14',
    });
    at('2027-03-15', '00:05');
    await runJob(renewSubscriptions, ctx);
    expect(await assetRow(asset.id)).toMatchObject({ status: 'deactivated', term_end: '2027-03-14' });
  });

  it('rolls monthly plans over on the 1st', async () => {
    const monthly = await makeAsset(acme.id, null, { plan: 'monthly', start: '2027-05-01' });
    at('2027-05-31', '00:05');
    await runJob(renewSubscriptions, ctx);
    expect(await assetRow(monthly.id)).toMatchObject({
      term_start: '2027-05-01',
      term_end: '2027-05-31',
      next_renewal_on: null,
    });
    at('2027-06-01', '00:05');
    await runJob(renewSubscriptions, ctx);
    expect(await assetRow(monthly.id)).toMatchObject({
      term_start: '2027-06-01',
      term_end: '2027-06-30',
      next_renewal_on: null,
      renewal_unconfirmed: false,
    });
  });
});

describe('the renewal job at scale', () => {
  // 20,000 renewals, each with its chained audit entry: more than a plain test's 30 s on a busy 2-core machine
  it('renews 20,000 generated subscriptions in batches, each exactly once', async () => {
    const big = await makeTenant(db, { name: 'Bulk Provider' });
    const customer = await makeCustomer(db, big.id, { title: 'Bulk Customer' });
    const today: Day = '2027-07-01';
    // 12,000 yearly ended yesterday; 4,000 quarterly ended 200 days ago (three terms to catch up);
    // 2,000 monthly of June; 2,000 yearly ended but with a deactivation pending
    await db.raw(
      `insert into assets (tenant_id, customer_id, identifier, status, plan, term_start, term_end, next_renewal_on)
       select :tenant, :customer, 'BULK' || lpad(n::text, 6, '0'),
         case when n > 18000 then 'deactivation_pending' else 'active' end,
         case when n <= 12000 or n > 18000 then 'yearly' when n <= 16000 then 'quarterly' else 'monthly' end,
         case when n <= 12000 or n > 18000 then date '2026-07-01' when n <= 16000 then date '2026-09-13'
              else date '2027-06-01' end,
         case when n <= 12000 or n > 18000 then date '2027-06-30' when n <= 16000 then date '2026-12-12'
              else date '2027-06-30' end,
         case when n <= 12000 or n > 18000 then date '2027-07-01' when n <= 16000 then date '2026-12-13' end
       from generate_series(1, 20000) n`,
      { tenant: big.id, customer: customer.id },
    );
    const counts = await renewDueSubscriptions(db, today, { batchSize: 2000 });
    expect(counts.batches).toBeGreaterThanOrEqual(10);
    expect(counts.renewed).toBeGreaterThanOrEqual(16_000);
    // the terms as the portal shows them today: a monthly plan's is derived from its stored one (currentTerm)
    type Row = {
      plan: Plan;
      status: string;
      term_start: Day;
      term_end: Day;
      next_renewal_on: Day | null;
      renewal_unconfirmed: boolean;
    };
    const rows: Row[] = await db('assets')
      .where({ tenant_id: big.id })
      .select('plan', 'status', 'term_start', 'term_end', 'next_renewal_on', 'renewal_unconfirmed');
    const groups = new Map<string, Row & { n: number }>();
    for (const r of rows) {
      const term = currentTerm({ plan: r.plan, status: r.status, termStart: r.term_start, termEnd: r.term_end }, today);
      const shown = { ...r, term_start: term.termStart!, term_end: term.termEnd! };
      const key = JSON.stringify(shown);
      const group = groups.get(key) ?? { ...shown, n: 0 };
      group.n++;
      groups.set(key, group);
    }
    const byPlan = [...groups.values()].sort((a, b) => `${a.plan} ${a.status}`.localeCompare(`${b.plan} ${b.status}`));
    // quarterly: 13 Dec 2026 -> 13 Mar 2027 -> 13 Jun 2027 -> 13 Sep 2027 covers today
    expect(byPlan).toEqual([
      {
        plan: 'monthly',
        status: 'active',
        term_start: '2027-07-01',
        term_end: '2027-07-31',
        next_renewal_on: null,
        renewal_unconfirmed: false,
        n: 2000,
      },
      {
        plan: 'quarterly',
        status: 'active',
        term_start: '2027-06-13',
        term_end: '2027-09-12',
        next_renewal_on: '2027-09-13',
        renewal_unconfirmed: true,
        n: 4000,
      },
      {
        plan: 'yearly',
        status: 'active',
        term_start: '2027-07-01',
        term_end: '2028-06-30',
        next_renewal_on: '2028-07-01',
        renewal_unconfirmed: true,
        n: 12000,
      },
      {
        plan: 'yearly',
        status: 'deactivation_pending',
        term_start: '2026-07-01',
        term_end: '2027-06-30',
        next_renewal_on: '2027-07-01',
        renewal_unconfirmed: false,
        n: 2000,
      },
    ]);
    // one entry per term renewed: the quarterly ones renewed three times
    const audited = await db('audit_log')
      .where({ tenant_id: big.id, action: 'asset.renewed_automatically' })
      .count<{ n: number }[]>({ n: '*' });
    expect(audited[0]!.n).toBe(12_000 + 3 * 4_000);
    const rerun = await renewDueSubscriptions(db, today, { batchSize: 2000 });
    expect(rerun).toMatchObject({ renewed: 0, rolled_over: 0 });
  }, 120_000);
});
