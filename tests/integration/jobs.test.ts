import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { fixedClock } from '../../src/clock.js';
import { expireTokens } from '../../src/jobs/expire-tokens.js';
import { createJobRunner, JOBS, runJob, startScheduler } from '../../src/jobs/scheduler.js';
import type { Job } from '../../src/jobs/types.js';
import { runExclusively } from '../../src/services/platform/job-lock.js';
import { findUsableToken, issueToken } from '../../src/services/platform/tokens.js';
import { signedInAgent, testContext } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeOperator, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { decode } from '../support/forms.js';

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
    throw new Error('the disk is full');
  },
};
const app = createApp({ ...ctx, jobs: createJobRunner(jobCtx, {}, [...JOBS, broken]) });

const tenant = await makeTenant(db, { name: 'Jobs Telematics' });
const customer = await makeCustomer(db, tenant.id, { title: 'Jobs Freight' });
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }, { name: 'Ada Admin' });
const operator = await makeOperator(db, { name: 'Opal Operator' });
// one yearly subscription whose term ended yesterday
await db('assets').insert({
  tenant_id: tenant.id,
  customer_id: customer.id,
  identifier: 'JOB-0001',
  status: 'active',
  plan: 'yearly',
  term_start: '2026-02-01',
  term_end: '2027-01-31',
  next_renewal_on: '2027-02-01',
});
const { agent, csrf } = await signedInAgent(app, operator.email, TEST_PASSWORD);

describe("the operator's Jobs page", () => {
  it('lists every job with its schedule in words, before any has run', async () => {
    const page = await agent.get('/operator/jobs');
    expect(page.status).toBe(200);
    for (const job of [
      'renew-subscriptions',
      'apply-deactivations',
      'renewal-reminders',
      'send-mail',
      'expire-tokens',
      'prune-sessions',
    ]) {
      expect(page.text).toContain(`<h2 id="job-${job}-heading">${job}</h2>`);
    }
    expect(page.text).toContain('Schedule: Daily at 00:05 UTC');
    expect(page.text).toContain('Schedule: Daily at 06:00 UTC');
    expect(page.text).toContain('Schedule: Every 10 seconds, on every instance');
    expect(page.text).toContain('No run recorded yet.');
    expect(page.text).toContain('<a href="/operator/jobs" aria-current="page">Jobs</a>');
  });

  it('runs a job now and shows the run with who started it and what it did', async () => {
    const res = await agent.post('/operator/jobs/renew-subscriptions/run').type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/operator/jobs#job-renew-subscriptions');
    const page = decode((await agent.get('/operator/jobs')).text);
    expect(page).toMatch(/“renew-subscriptions” finished: 1 renewed, 0 rolled over, \d+ batches\./);
    expect(page).toMatch(/<td>1 renewed, 0 rolled over, \d+ batches<\/td>/);
    expect(page).toContain(`Opal Operator <${operator.email}>`);
    expect(page).toContain('Finished');
    expect(await db('assets').where({ identifier: 'JOB-0001' }).first('term_end', 'renewal_unconfirmed')).toEqual({
      term_end: '2028-01-31',
      renewal_unconfirmed: true,
    });
  });

  it('records a failed run with its error and says so', async () => {
    const res = await agent.post('/operator/jobs/broken-job/run').type('form').send({ _csrf: csrf });
    expect(res.status).toBe(303);
    const page = decode((await agent.get('/operator/jobs')).text);
    expect(page).toContain('“broken-job” failed: the disk is full');
    expect(page).toMatch(/Failed<\/span> <span class="mail-error">the disk is full<\/span>/);
  });

  it('starts nothing while another instance runs the job, and says so', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const lockTaken = new Promise<void>((r) => (locked = r));
    const other = runExclusively(db, 'apply-deactivations', async () => {
      locked();
      await held;
    });
    await lockTaken;
    const res = await agent.post('/operator/jobs/apply-deactivations/run').type('form').send({ _csrf: csrf });
    release();
    await other;
    expect(res.status).toBe(303);
    const page = decode((await agent.get('/operator/jobs')).text);
    expect(page).toContain(
      '“apply-deactivations” is running on another instance right now, so nothing more was started.',
    );
    expect(await db('job_runs').where({ job: 'apply-deactivations' }).first('id')).toBeUndefined();
  });

  it('answers 404 for a job that does not exist', async () => {
    expect((await agent.post('/operator/jobs/no-such-job/run').type('form').send({ _csrf: csrf })).status).toBe(404);
  });
});

describe('the token expiry job', () => {
  it('marks links past their expiry as expired, and they still read as expired, not unknown', async () => {
    const user = await makeUser(
      db,
      { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
      { status: 'pending' },
    );
    const { token } = await issueToken(db, {
      userId: user.id,
      tenantId: tenant.id,
      purpose: 'activation',
      now: new Date('2027-01-01T00:00:00Z'),
    });
    const fresh = await issueToken(db, {
      userId: admin.id,
      tenantId: tenant.id,
      purpose: 'password_reset',
      now: new Date('2027-02-01T07:30:00Z'),
    });
    const outcome = await runJob(expireTokens, jobCtx);
    expect(outcome).toEqual({ ran: true, count: 1 });
    expect((await runJob(expireTokens, jobCtx)).count).toBe(0);
    const state = await db.transaction((trx) => findUsableToken(trx, token, 'activation', clock.now()));
    expect(state).toEqual({ ok: false, reason: 'expired' });
    const live = await db.transaction((trx) => findUsableToken(trx, fresh.token, 'password_reset', clock.now()));
    expect(live.ok).toBe(true);
  });
});

describe('stopping the scheduler', () => {
  it('lets the job that is running finish and record its run before the process stops', async () => {
    let started: () => void = () => {};
    let finish: () => void = () => {};
    const running = new Promise<void>((resolve) => (started = resolve));
    const slow: Job = {
      name: 'slow-job',
      schedule: '* * * * * *',
      every: 'Every second',
      description: 'Waits until the test lets it finish, for this test.',
      run: async () => {
        started();
        await new Promise<void>((resolve) => (finish = resolve));
        return 1;
      },
    };
    const scheduler = startScheduler({ ...jobCtx, logger: ctx.logger }, { jobs: [slow] });
    await running;
    const events: string[] = [];
    const stopped = scheduler.stop().then(() => events.push('stopped'));
    // a stop that did not wait would have resolved by now
    await new Promise((resolve) => setTimeout(resolve, 100));
    events.push('job finished');
    finish();
    await stopped;
    expect(events).toEqual(['job finished', 'stopped']);
    expect(await db('job_runs').where({ job: 'slow-job', outcome: 'ok' }).count({ n: '*' }).first()).toEqual({ n: 1 });
  });
});
