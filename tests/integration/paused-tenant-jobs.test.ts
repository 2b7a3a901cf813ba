import { describe, expect, it } from 'vitest';
import { renewDueSubscriptions } from '../../src/services/assets/renewals.js';
import { sendRenewalReminders } from '../../src/services/assets/renewal-reminders.js';
import { addDays, addMonths, termFor, type Day } from '../../src/services/assets/subscription-rules.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeTenant, makeUser } from '../support/factories.js';

/**
 * A tenant the operator disabled is paused for the jobs too: its subscriptions are not renewed and its
 * customers get no renewal reminders (their people cannot sign in to act on them); once enabled,
 * the next runs catch up. Another tenant's jobs go on meanwhile.
 */

const { db } = await testDatabase();
const links = { baseUrl: 'https://portal.example.test', secret: 'test-secret-that-is-long-enough-for-the-check' };
const today: Day = '2026-12-10';
const now = new Date(`${today}T06:00:00Z`);

async function providerWithDueSubscriptions(name: string) {
  const tenant = await makeTenant(db, { name });
  const customer = await makeCustomer(db, tenant.id);
  const admin = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
  // a yearly term that ended yesterday, and one that renews in 10 days (a reminder is due)
  const ended = termFor('yearly', addMonths(addDays(today, -1), -12));
  const lapsed = await makeAsset(
    db,
    { customer },
    { plan: 'yearly', term_start: ended.termStart, term_end: ended.termEnd, next_renewal_on: ended.nextRenewalOn },
  );
  const soon = termFor('yearly', addMonths(addDays(today, 10), -12));
  await makeAsset(
    db,
    { customer },
    { plan: 'yearly', term_start: soon.termStart, term_end: soon.termEnd, next_renewal_on: soon.nextRenewalOn },
  );
  return { tenant, admin, lapsed };
}

const renewalOf = async (id: string) =>
  (await db('assets').where({ id }).first('next_renewal_on', 'renewal_unconfirmed')) as {
    next_renewal_on: Day;
    renewal_unconfirmed: boolean;
  };
const remindersTo = async (email: string) =>
  Number((await db('outbox').where({ kind: 'renewal_reminder', recipient: email }).count({ n: '*' }))[0]!.n);

describe('the jobs of a disabled tenant', () => {
  it('renew nothing and remind no one while it is disabled, and catch up once it is enabled', async () => {
    const paused = await providerWithDueSubscriptions('Paused Provider');
    const running = await providerWithDueSubscriptions('Running Provider');
    await db('tenants').where({ id: paused.tenant.id }).update({ disabled_at: now });
    const before = await renewalOf(paused.lapsed.id);

    await renewDueSubscriptions(db, today);
    await sendRenewalReminders(db, { now, links });
    expect(await renewalOf(paused.lapsed.id)).toEqual(before);
    expect(await remindersTo(paused.admin.email)).toBe(0);
    // the other tenant's jobs went on
    expect((await renewalOf(running.lapsed.id)).renewal_unconfirmed).toBe(true);
    expect(await remindersTo(running.admin.email)).toBe(1);

    await db('tenants').where({ id: paused.tenant.id }).update({ disabled_at: null });
    await renewDueSubscriptions(db, today);
    await sendRenewalReminders(db, { now, links });
    expect(await renewalOf(paused.lapsed.id)).toEqual({
      next_renewal_on: termFor('yearly', addDays(today, -1)).nextRenewalOn,
      renewal_unconfirmed: true,
    });
    expect(await remindersTo(paused.admin.email)).toBe(1);
    expect(await remindersTo(running.admin.email)).toBe(1);
  });
});
