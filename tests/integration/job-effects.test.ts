import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { fixedClock } from '../../src/clock.js';
import { applyDeactivations } from '../../src/jobs/apply-deactivations.js';
import { renewSubscriptions } from '../../src/jobs/renew-subscriptions.js';
import { renewalReminders } from '../../src/jobs/renewal-reminders.js';
import { createJobRunner, JOBS, runJob } from '../../src/jobs/scheduler.js';
import type { Job } from '../../src/jobs/types.js';
import { signedInAgent, testContext } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeOperator, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/**
 * The jobs belong to the deployment: its operator sees every run (across all tenants) and starts
 * them; a tenant admin sees, read only, what they did for their own tenant and nothing of another's.
 */

const { db } = await testDatabase();
const clock = fixedClock('2027-02-01T08:00:00Z');
const ctx = testContext({ db, clock });
const jobCtx = { db, clock, mail: null, links: { baseUrl: 'http://portal.test', secret: ctx.config.sessionSecret } };
const broken: Job = {
  name: 'broken-job',
  schedule: '0 0 * * *',
  every: 'Daily at midnight UTC',
  description: 'Always fails, for this test.',
  run: async () => {
    throw new Error('cannot reach rival-billing.internal for Rival Freight');
  },
};
const app = createApp({ ...ctx, jobs: createJobRunner(jobCtx, {}, [...JOBS, broken]) });

/** A tenant with a customer whose company admin gets reminders, and three assets the jobs act on today. */
async function tenantWithDueWork(name: string, customerTitle: string, prefix: string, ownerEmail: string) {
  const tenant = await makeTenant(db, { name });
  const customer = await makeCustomer(db, tenant.id, { title: customerTitle });
  const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
  await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id }, { email: ownerEmail });
  // a yearly term that ended yesterday: renewed today
  await makeAsset(
    db,
    { customer },
    {
      identifier: `${prefix}-RENEW`,
      plan: 'yearly',
      term_start: '2026-02-01',
      term_end: '2027-01-31',
      next_renewal_on: '2027-02-01',
    },
  );
  // renewing in ten days: its company admin is reminded
  await makeAsset(
    db,
    { customer },
    {
      identifier: `${prefix}-SOON`,
      plan: 'yearly',
      term_start: '2026-02-11',
      term_end: '2027-02-10',
      next_renewal_on: '2027-02-11',
    },
  );
  // a deactivation asked for today: applied today
  const leaving = await makeAsset(
    db,
    { customer },
    {
      identifier: `${prefix}-LEAVE`,
      status: 'deactivation_pending',
      plan: 'monthly',
      term_start: '2027-02-01',
      term_end: '2027-02-28',
    },
  );
  await db('asset_requests').insert({
    tenant_id: tenant.id,
    asset_id: leaving.id,
    customer_id: customer.id,
    kind: 'deactivation',
    requested_by_label: 'Test',
    effective_on: '2027-02-01',
  });
  return { tenant, customer, admin };
}

const ours = await tenantWithDueWork('Jobs Telematics', 'Jobs Freight', 'OURS', 'owner@jobs-freight.test');
const rival = await tenantWithDueWork('Rival Telematics', 'Rival Freight', 'RIVAL', 'owner@rival-freight.test');
const operator = await makeOperator(db, { name: 'Opal Operator' });

for (const job of [renewSubscriptions, applyDeactivations, renewalReminders]) await runJob(job, jobCtx);

describe("the operator's Jobs page", () => {
  it("shows every tenant's work in the runs, and a failed run's error", async () => {
    const { agent, csrf } = await signedInAgent(app, operator.email, TEST_PASSWORD);
    await agent.post('/operator/jobs/broken-job/run').type('form').send({ _csrf: csrf });
    const page = (await agent.get('/operator/jobs')).text;
    // one asset of each tenant, in the same run
    expect(page).toMatch(/<td>2 renewed, 0 rolled over, \d+ batches<\/td>/);
    expect(page).toContain('<td>2 assets deactivated</td>');
    expect(page).toMatch(/<td>2 mails[^<]*<\/td>/);
    expect(page).toContain('cannot reach rival-billing.internal for Rival Freight');
    expect(page).toContain('Run now<span class="visually-hidden"> renew-subscriptions</span>');
  });
});

describe("a tenant admin's Jobs page", () => {
  it("lists the tenant's renewals, deactivations and reminders, and none of another tenant's", async () => {
    const { agent } = await signedInAgent(app, ours.admin.email, TEST_PASSWORD);
    const res = await agent.get('/admin/jobs');
    expect(res.status).toBe(200);
    const renewals = section(res.text, 'renewals-heading');
    expect(renewals).toContain('OURS-RENEW');
    expect(renewals).toContain('Jobs Freight');
    expect(section(res.text, 'deactivations-heading')).toContain('OURS-LEAVE');
    const reminders = section(res.text, 'reminders-heading');
    expect(reminders).toContain('&lt;owner@jobs-freight.test&gt;');
    expect(reminders).toMatch(/<td>1<\/td>/);
    for (const theirs of ['RIVAL-', 'Rival Freight', 'Rival Telematics', 'owner@rival-freight.test', 'rival-billing'])
      expect(res.text).not.toContain(theirs);
    expect(res.text).not.toContain('Run now');
  });

  it("shows the other tenant's admin their own work, and none of the first tenant's", async () => {
    const { agent } = await signedInAgent(app, rival.admin.email, TEST_PASSWORD);
    const page = (await agent.get('/admin/jobs')).text;
    expect(page).toContain('RIVAL-RENEW');
    expect(page).toContain('RIVAL-LEAVE');
    expect(page).toContain('owner@rival-freight.test');
    for (const theirs of ['OURS-', 'Jobs Freight', 'Jobs Telematics', 'owner@jobs-freight.test'])
      expect(page).not.toContain(theirs);
  });

  it('refuses a tenant admin the operator\'s Jobs page and "Run now", and runs nothing', async () => {
    const { agent, csrf } = await signedInAgent(app, ours.admin.email, TEST_PASSWORD);
    const runsBefore = await db('job_runs').count({ n: '*' }).first();
    expect((await agent.get('/operator/jobs')).status).toBe(403);
    expect((await agent.post('/operator/jobs/renew-subscriptions/run').type('form').send({ _csrf: csrf })).status).toBe(
      403,
    );
    // the old address of "Run now" is gone
    expect((await agent.post('/admin/jobs/renew-subscriptions/run').type('form').send({ _csrf: csrf })).status).toBe(
      404,
    );
    expect(await db('job_runs').count({ n: '*' }).first()).toEqual(runsBefore);
  });
});

/** The HTML of the page's section headed by the given id. */
function section(html: string, headingId: string): string {
  const start = html.indexOf(`id="${headingId}"`);
  expect(start, headingId).toBeGreaterThan(0);
  const end = html.indexOf('</section>', start);
  return html.slice(start, end);
}
