import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { renewalReminders } from '../../src/jobs/renewal-reminders.js';
import { runJob } from '../../src/jobs/scheduler.js';
import type { Day } from '../../src/services/assets/subscription-rules.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeTenant, makeUser } from '../support/factories.js';

/**
 * Which weekly reminder is due is decided by the SQL the reminder job runs: week 1 from 28 days before
 * the renewal, 2 from 21, 3 from 14, 4 from 7 until the renewal day, none before. One yearly subscription
 * renews at each edge of those weeks; the job runs as the schedule runs it, and each test reads what the
 * job recorded and what it mailed.
 */
const { db } = await testDatabase();
const clock = fixedClock('2026-11-24T06:00:00Z');
const links = { baseUrl: 'https://portal.example.test', secret: 'test-secret-that-is-long-enough-for-the-check' };
const ctx = { db, clock, mail: null, links };

const tenant = await makeTenant(db, { name: 'Edge Telematics' });
const customer = await makeCustomer(db, tenant.id, { title: 'Edge Haulage' });
const admin = await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
  { email: 'olga@edge.test' },
);

// EDGE-n renews n days after 24 November 2026, the first day the job runs; PAST-1 renewed the day before
const RENEWALS: [string, Day][] = [
  ['EDGE-29', '2026-12-23'],
  ['EDGE-28', '2026-12-22'],
  ['EDGE-22', '2026-12-16'],
  ['EDGE-21', '2026-12-15'],
  ['EDGE-15', '2026-12-09'],
  ['EDGE-14', '2026-12-08'],
  ['EDGE-8', '2026-12-02'],
  ['EDGE-7', '2026-12-01'],
  ['EDGE-1', '2026-11-25'],
  ['EDGE-0', '2026-11-24'],
  ['PAST-1', '2026-11-23'],
];
for (const [identifier, day] of RENEWALS)
  await makeAsset(db, { customer }, { identifier, name: '', plan: 'yearly', next_renewal_on: day });

let lastMailId = 0;
/** The job's run on `day` (at 06:00 UTC, as scheduled): what it counted, recorded, and mailed. */
async function runOn(day: Day, time = '06:00') {
  clock.set(`${day}T${time}:00Z`);
  const run = await runJob(renewalReminders, ctx);
  const recorded = (await db('renewal_reminders_sent as r')
    .join('assets as a', 'a.id', 'r.asset_id')
    .where({ 'r.tenant_id': tenant.id, 'r.sent_at': clock.now() })
    .orderBy('a.identifier')
    .select('a.identifier', 'r.week')) as { identifier: string; week: number }[];
  const mails = (await db('outbox')
    .where({ tenant_id: tenant.id, kind: 'renewal_reminder' })
    .where('id', '>', lastMailId)
    .orderBy('id')
    .select('id', 'recipient', 'body_text')) as { id: number; recipient: string; body_text: string }[];
  lastMailId = mails.at(-1)?.id ?? lastMailId;
  return {
    counts: run.counts,
    weeks: Object.fromEntries(recorded.map((r) => [r.identifier, r.week])),
    mails: mails.map((m) => ({
      to: m.recipient,
      lines: [...m.body_text.matchAll(/^- ([A-Z]+-\d+): yearly plan, renews on [^(]+\(([^)]+)\)$/gm)].map(
        (l) => `${l[1]} ${l[2]}`,
      ),
    })),
  };
}

describe('the weekly renewal reminder the job sends', () => {
  it('is week 1 from 28 days before renewal, 2 from 21, 3 from 14, 4 from 7 on; none at 29 or after it', async () => {
    const run = await runOn('2026-11-24');
    expect(run.weeks).toEqual({
      'EDGE-28': 1,
      'EDGE-22': 1,
      'EDGE-21': 2,
      'EDGE-15': 2,
      'EDGE-14': 3,
      'EDGE-8': 3,
      'EDGE-7': 4,
      'EDGE-1': 4,
      'EDGE-0': 4,
    });
    expect(run.mails).toEqual([
      {
        to: admin.email,
        lines: [
          'EDGE-0 today',
          'EDGE-1 tomorrow',
          'EDGE-7 in 7 days',
          'EDGE-8 in 8 days',
          'EDGE-14 in 14 days',
          'EDGE-15 in 15 days',
          'EDGE-21 in 21 days',
          'EDGE-22 in 22 days',
          'EDGE-28 in 28 days',
        ],
      },
    ]);
    expect(run.counts).toEqual({ mails: 1, reminders: 9 });
  });

  it('records and mails nothing more when it runs again the same day', async () => {
    const rerun = await runOn('2026-11-24', '14:00');
    expect(rerun).toEqual({ counts: { mails: 0, reminders: 0 }, weeks: {}, mails: [] });
  });

  it('sends the next day only the reminders whose week begins that day', async () => {
    const run = await runOn('2026-11-25');
    expect(run.weeks).toEqual({ 'EDGE-29': 1, 'EDGE-22': 2, 'EDGE-15': 3, 'EDGE-8': 4 });
    expect(run.mails).toEqual([
      {
        to: admin.email,
        lines: ['EDGE-8 in 7 days', 'EDGE-15 in 14 days', 'EDGE-22 in 21 days', 'EDGE-29 in 28 days'],
      },
    ]);
  });

  it('sends nothing later in the same week, and in the next week the next reminder of those it reaches', async () => {
    expect(await runOn('2026-11-27')).toEqual({ counts: { mails: 0, reminders: 0 }, weeks: {}, mails: [] });
    const nextWeek = await runOn('2026-12-01');
    expect(nextWeek.weeks).toEqual({ 'EDGE-28': 2, 'EDGE-21': 3, 'EDGE-14': 4 });
    expect(nextWeek.mails).toEqual([
      { to: admin.email, lines: ['EDGE-14 in 7 days', 'EDGE-21 in 14 days', 'EDGE-28 in 21 days'] },
    ]);
  });
});
