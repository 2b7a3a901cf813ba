import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { applyDeactivations } from '../../src/jobs/apply-deactivations.js';
import { renewSubscriptions } from '../../src/jobs/renew-subscriptions.js';
import { runJob } from '../../src/jobs/scheduler.js';
import type { Actor } from '../../src/services/access/index.js';
import { getAsset } from '../../src/services/assets/detail.js';
import { approveRequest } from '../../src/services/assets/queue.js';
import {
  cancelDeactivation,
  confirmRenewal,
  requestActivation,
  requestDeactivation,
} from '../../src/services/assets/requests.js';
import { loadActor } from '../../src/services/people/sign-in.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser } from '../support/factories.js';

/**
 * A month of the schedule, day by day, from 10 February to 12 March 2028 (29 February, the 1st of a
 * month, month ends), over monthly, quarterly and yearly subscriptions in two tenants: some renew
 * themselves, some have their deactivation asked for (and one withdrawn), one is activated, one
 * renewal is confirmed. Every day the renewal job runs at 00:05 and the deactivations at 00:10, as
 * scheduled; at noon every asset's page must show the term and renewal state that a plain model of
 * the rules, written out below day by day, says it has: for a viewer in UTC and one in Auckland,
 * whose day is already the next one at noon UTC.
 */
type Day = string;
type Plan = 'monthly' | 'quarterly' | 'yearly';
type Status = 'inactive' | 'activation_pending' | 'active' | 'deactivation_pending' | 'deactivated';

// ---- the model: calendar arithmetic of its own, and the rules as a person would state them ----

const dayOf = (t: Date): Day => t.toISOString().slice(0, 10);
const parts = (day: Day) => day.split('-').map(Number) as [number, number, number];
const plusDays = (day: Day, n: number): Day => {
  const [y, m, d] = parts(day);
  return dayOf(new Date(Date.UTC(y, m - 1, d + n)));
};
/** the same day n months later, or that month's last day when it is shorter */
const plusMonths = (day: Day, n: number): Day => {
  const [y, m, d] = parts(day);
  const lastDay = new Date(Date.UTC(y, m - 1 + n + 1, 0)).getUTCDate();
  return dayOf(new Date(Date.UTC(y, m - 1 + n, Math.min(d, lastDay))));
};
const monthStart = (day: Day): Day => `${day.slice(0, 8)}01`;
const monthEnd = (day: Day): Day => plusDays(plusMonths(monthStart(day), 1), -1);
const daysUntil = (from: Day, to: Day) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
const MONTHS: Record<Plan, number> = { monthly: 1, quarterly: 3, yearly: 12 };

type Sub = {
  key: string;
  tenant: 'fleet' | 'other';
  plan: Plan;
  status: Status;
  termStart: Day | null;
  termEnd: Day | null;
  next: Day | null;
  unconfirmed: boolean;
  /** the day a pending deactivation takes effect */
  endsOn: Day | null;
};

const model = new Map<string, Sub>();
/** terms each subscription renewed for, in the model */
const termsRenewed = new Map<string, number>();

/**
 * 00:05: a running yearly or quarterly term past its end renews (flagged), term after term until one covers
 * the day; a monthly one moves on to the month. Counts the subscriptions renewed.
 */
function modelRenewals(day: Day): { renewed: number } {
  let renewed = 0;
  for (const s of model.values()) {
    if (s.status !== 'active' || !s.termEnd) continue;
    if (s.plan === 'monthly') {
      if (s.termEnd < day) [s.termStart, s.termEnd] = [monthStart(day), monthEnd(day)];
      continue;
    }
    if (s.termEnd < day) renewed++;
    while (s.termEnd < day) {
      s.termStart = plusDays(s.termEnd, 1);
      s.next = plusMonths(s.termStart, MONTHS[s.plan]);
      s.termEnd = plusDays(s.next, -1);
      s.unconfirmed = true;
      termsRenewed.set(s.key, (termsRenewed.get(s.key) ?? 0) + 1);
    }
  }
  return { renewed };
}

/** 00:10: a pending deactivation whose day has come ends the subscription */
function modelDeactivations(day: Day) {
  for (const s of model.values()) {
    if (s.status === 'deactivation_pending' && s.endsOn && s.endsOn <= day)
      Object.assign(s, { status: 'deactivated', next: null, unconfirmed: false, endsOn: null });
  }
}

/** the renewal column of the asset's page on the viewer's day */
function modelRenewal(s: Sub, viewerDay: Day): { state: string; day: Day | null } {
  if (s.status === 'deactivation_pending' && !s.unconfirmed) return { state: 'none', day: null };
  if (s.status !== 'active' && s.status !== 'deactivation_pending') return { state: 'none', day: null };
  if (s.plan === 'monthly' || !s.next) return { state: 'none', day: s.next };
  if (s.unconfirmed) return { state: 'unconfirmed', day: s.next };
  const days = daysUntil(viewerDay, s.next);
  return { state: days >= 0 && days <= 28 ? 'due_soon' : 'scheduled', day: s.next };
}

// ---- the same subscriptions in the database ----

const { db } = await testDatabase();
const clock = fixedClock('2028-02-09T12:00:00Z');
const ctx = { db, clock, mail: null };
const at = (day: Day, time: string) => clock.set(`${day}T${time}:00Z`);

const fleetTenant = await makeTenant(db, { name: 'Month Telematics' });
const otherTenant = await makeTenant(db, { name: 'Second Provider' });
const fleet = await makeCustomer(db, fleetTenant.id, { title: 'Month Freight' });
const other = await makeCustomer(db, otherTenant.id, { title: 'Other Freight' });

async function actorOf(
  tenantId: string,
  customerId: string | null,
  role: 'company_admin' | 'tenant_admin',
  tz: string,
) {
  const user = await makeUser(db, { tenantId, role, ...(customerId ? { customerId } : {}) });
  await db('users').where({ id: user.id }).update({ time_zone: tz });
  return (await loadActor(db, user.id, user.membershipId))!;
}
const owner = await actorOf(fleetTenant.id, fleet.id, 'company_admin', 'UTC');
const aucklandOwner = await actorOf(fleetTenant.id, fleet.id, 'company_admin', 'Pacific/Auckland');
const staff = await actorOf(fleetTenant.id, null, 'tenant_admin', 'UTC');
const otherOwner = await actorOf(otherTenant.id, other.id, 'company_admin', 'UTC');

const ids = new Map<string, string>();
let serial = 0;
async function subscription(s: Omit<Sub, 'unconfirmed' | 'endsOn'> & { unconfirmed?: boolean }) {
  const customer = s.tenant === 'fleet' ? fleet : other;
  const [row] = await db('assets')
    .insert({
      tenant_id: customer.tenant_id,
      customer_id: customer.id,
      identifier: `35900000${String(++serial).padStart(7, '0')}`,
      name: s.key,
      status: s.status,
      plan: s.plan,
      term_start: s.termStart,
      term_end: s.termEnd,
      next_renewal_on: s.next,
      renewal_unconfirmed: s.unconfirmed ?? false,
    })
    .returning('id');
  ids.set(s.key, (row as { id: string }).id);
  model.set(s.key, { unconfirmed: false, endsOn: null, ...s });
}

// monthly: activated 15 January (first term to 14 February); active since last June; one whose
// deactivation is asked for on 20 February; one from 31 January (its first term ends 28 February);
// one activated on 12 February; one never active
await subscription({
  key: 'M-jan15',
  tenant: 'fleet',
  plan: 'monthly',
  status: 'active',
  termStart: '2028-01-15',
  termEnd: '2028-02-14',
  next: null,
});
await subscription({
  key: 'M-since-june',
  tenant: 'fleet',
  plan: 'monthly',
  status: 'active',
  termStart: '2027-06-15',
  termEnd: '2027-07-14',
  next: null,
});
await subscription({
  key: 'M-leaving',
  tenant: 'fleet',
  plan: 'monthly',
  status: 'active',
  termStart: '2028-02-01',
  termEnd: '2028-02-29',
  next: null,
});
await subscription({
  key: 'M-jan31',
  tenant: 'fleet',
  plan: 'monthly',
  status: 'active',
  termStart: '2028-01-31',
  termEnd: '2028-02-28',
  next: null,
});
await subscription({
  key: 'M-new',
  tenant: 'fleet',
  plan: 'monthly',
  status: 'inactive',
  termStart: null,
  termEnd: null,
  next: null,
});
// quarterly: renewing on 29 February from 29 and from 30 November; one whose term lapsed in July (the
// job was off: it catches up term by term); one deactivated
await subscription({
  key: 'Q-nov29',
  tenant: 'fleet',
  plan: 'quarterly',
  status: 'active',
  termStart: '2027-11-29',
  termEnd: '2028-02-28',
  next: '2028-02-29',
});
await subscription({
  key: 'Q-lapsed',
  tenant: 'fleet',
  plan: 'quarterly',
  status: 'active',
  termStart: '2027-05-01',
  termEnd: '2027-07-31',
  next: '2027-08-01',
});
await subscription({
  key: 'Q-off',
  tenant: 'fleet',
  plan: 'quarterly',
  status: 'deactivated',
  termStart: '2027-08-01',
  termEnd: '2027-10-31',
  next: null,
});
// yearly: renewing on 28 February and on 1 March; one whose deactivation is pending (it must not
// renew); one renewed before and unconfirmed until 2 March; one renewing on 10 March whose deactivation
// is asked for and withdrawn
await subscription({
  key: 'Y-feb28',
  tenant: 'fleet',
  plan: 'yearly',
  status: 'active',
  termStart: '2027-02-28',
  termEnd: '2028-02-27',
  next: '2028-02-28',
});
await subscription({
  key: 'Y-mar1',
  tenant: 'fleet',
  plan: 'yearly',
  status: 'active',
  termStart: '2027-03-01',
  termEnd: '2028-02-29',
  next: '2028-03-01',
});
await subscription({
  key: 'Y-leaving',
  tenant: 'fleet',
  plan: 'yearly',
  status: 'active',
  termStart: '2027-03-05',
  termEnd: '2028-03-04',
  next: '2028-03-05',
});
await subscription({
  key: 'Y-unconfirmed',
  tenant: 'fleet',
  plan: 'yearly',
  status: 'active',
  termStart: '2028-01-20',
  termEnd: '2029-01-19',
  next: '2029-01-20',
  unconfirmed: true,
});
await subscription({
  key: 'Y-mar10',
  tenant: 'fleet',
  plan: 'yearly',
  status: 'active',
  termStart: '2027-03-10',
  termEnd: '2028-03-09',
  next: '2028-03-10',
});
// the second tenant: a quarterly term from 30 November (ends 28 February, renews 29 February) and a monthly plan
await subscription({
  key: 'Q-nov30-other',
  tenant: 'other',
  plan: 'quarterly',
  status: 'active',
  termStart: '2027-11-30',
  termEnd: '2028-02-28',
  next: '2028-02-29',
});
await subscription({
  key: 'M-other',
  tenant: 'other',
  plan: 'monthly',
  status: 'active',
  termStart: '2027-12-01',
  termEnd: '2027-12-31',
  next: null,
});

/** What people do during the month, at 10:00 UTC, in the portal and in the model. */
const ACTIONS: Record<Day, () => Promise<void>> = {
  '2028-02-10': async () => {
    // a yearly subscription that is not to renew: it ends with its term, on 4 March
    await requestDeactivation(db, owner, ids.get('Y-leaving')!, clock.now());
    Object.assign(model.get('Y-leaving')!, { status: 'deactivation_pending', endsOn: '2028-03-04' });
  },
  '2028-02-12': async () => {
    await requestActivation(db, owner, ids.get('M-new')!);
    const [request] = await db('asset_requests')
      .where({ asset_id: ids.get('M-new'), state: 'pending' })
      .pluck('id');
    await approveRequest(db, staff, request as string, clock.now());
    Object.assign(model.get('M-new')!, { status: 'active', termStart: '2028-02-12', termEnd: '2028-03-11' });
  },
  '2028-02-15': async () => {
    await requestDeactivation(db, owner, ids.get('Y-mar10')!, clock.now());
    Object.assign(model.get('Y-mar10')!, { status: 'deactivation_pending', endsOn: '2028-03-09' });
  },
  '2028-02-16': async () => {
    // withdrawn the next day: it runs, and renews on 10 March
    await cancelDeactivation(db, owner, ids.get('Y-mar10')!);
    Object.assign(model.get('Y-mar10')!, { status: 'active', endsOn: null });
  },
  '2028-02-20': async () => {
    // a monthly plan ends with the month it is asked in
    await requestDeactivation(db, owner, ids.get('M-leaving')!, clock.now());
    Object.assign(model.get('M-leaving')!, { status: 'deactivation_pending', endsOn: '2028-02-29' });
  },
  '2028-03-02': async () => {
    await confirmRenewal(db, owner, ids.get('Y-feb28')!);
    model.get('Y-feb28')!.unconfirmed = false;
  },
};

type Shown = { status: string; termStart: Day | null; termEnd: Day | null; renewal: string; renewalDay: Day | null };

async function shownTo(actor: Actor, key: string): Promise<Shown> {
  const page = await getAsset(db, actor, ids.get(key)!, clock.now());
  return {
    status: page.asset.status,
    termStart: page.asset.term_start,
    termEnd: page.asset.term_end,
    renewal: page.renewal.state,
    renewalDay: page.renewal.day,
  };
}

function expected(s: Sub, viewerDay: Day): Shown {
  const r = modelRenewal(s, viewerDay);
  return { status: s.status, termStart: s.termStart, termEnd: s.termEnd, renewal: r.state, renewalDay: r.day };
}

describe('a month of daily renewal runs', () => {
  it(
    'shows every subscription the term and renewal state of the day-by-day model, ' +
      'and the job renews each term once',
    async () => {
      const differences: { day: Day; viewer: string; key: string; shown: Shown; model: Shown }[] = [];
      const renewedByDay: { day: Day; job: number; model: number }[] = [];
      const monthlyRollovers: Record<Day, number> = {};
      for (let day: Day = '2028-02-10'; day <= '2028-03-12'; day = plusDays(day, 1)) {
        at(day, '00:05');
        const run = await runJob(renewSubscriptions, ctx);
        const modelRun = modelRenewals(day);
        renewedByDay.push({ day, job: run.counts!.renewed!, model: modelRun.renewed });
        monthlyRollovers[day] = run.counts!.rolled_over!;
        at(day, '00:10');
        await runJob(applyDeactivations, ctx);
        modelDeactivations(day);

        at(day, '10:00');
        await ACTIONS[day]?.();

        at(day, '12:00');
        for (const [key, s] of model) {
          const viewers: [string, Actor, Day][] =
            s.tenant === 'fleet'
              ? [
                  ['UTC', owner, day],
                  ['Auckland', aucklandOwner, plusDays(day, 1)],
                ]
              : [['UTC', otherOwner, day]];
          for (const [viewer, actor, viewerDay] of viewers) {
            const shown = await shownTo(actor, key);
            const want = expected(s, viewerDay);
            if (JSON.stringify(shown) !== JSON.stringify(want))
              differences.push({ day, viewer, key, shown, model: want });
          }
        }
      }
      expect(differences).toEqual([]);
      expect(renewedByDay.filter((r) => r.job !== r.model)).toEqual([]);
      // the lapsed quarter catches up (three terms) on the first run; 28, 29 February, 1 and 10 March renew
      expect(renewedByDay.filter((r) => r.job > 0).map((r) => [r.day, r.job])).toEqual([
        ['2028-02-10', 1],
        ['2028-02-28', 1],
        ['2028-02-29', 2],
        ['2028-03-01', 1],
        ['2028-03-10', 1],
      ]);
      // one audit entry per term renewed, whatever the day it was caught up on
      const audited: { entity_id: string; n: number }[] = await db('audit_log')
        .where({ action: 'asset.renewed_automatically' })
        .groupBy('entity_id')
        .select('entity_id')
        .count<{ entity_id: string; n: number }[]>({ n: '*' });
      const keyOf = new Map([...ids].map(([key, id]) => [id, key]));
      expect(Object.fromEntries(audited.map((a) => [keyOf.get(a.entity_id), Number(a.n)]))).toEqual(
        Object.fromEntries(termsRenewed),
      );
      // the monthly terms that began, counted once each: 15 February (from 15 January), 29 February (from
      // 31 January), and on 1 March every running monthly plan (M-leaving has been deactivated; M-new is
      // in its first term until 11 March, and moves on on 12 March)
      expect(Object.entries(monthlyRollovers).filter(([, n]) => n > 0)).toEqual([
        ['2028-02-15', 1],
        ['2028-02-29', 1],
        ['2028-03-01', 4],
        ['2028-03-12', 1],
      ]);
    },
    240_000,
  );
});
