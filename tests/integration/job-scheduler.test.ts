import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { fixedClock, systemClock } from '../../src/clock.js';
import { renewSubscriptions } from '../../src/jobs/renew-subscriptions.js';
import { runJob, startScheduler } from '../../src/jobs/scheduler.js';
import type { Job } from '../../src/jobs/types.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant } from '../support/factories.js';

const { db } = await testDatabase();
const logger = pino({ level: 'silent' });

type RunRecord = {
  outcome: string;
  rows_touched: number | null;
  duration_ms: number;
  started_at: Date;
  finished_at: Date;
  counts: Record<string, number>;
};
const runsOf = (job: string): Promise<RunRecord[]> =>
  db('job_runs')
    .where({ job })
    .orderBy('id')
    .select('outcome', 'rows_touched', 'duration_ms', 'started_at', 'finished_at', 'counts');

describe('a job that overruns its schedule', () => {
  it('is not started again while it runs, by its own instance or another one', async () => {
    let running = 0;
    let mostAtOnce = 0;
    let starts = 0;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const firstStart = new Promise<void>((r) => (started = r));
    let finished!: () => void;
    const firstFinish = new Promise<void>((r) => (finished = r));
    // due every second, but its first run lasts until the test lets it go
    const slow: Job = {
      name: 'slow-test-job',
      schedule: '* * * * * *',
      every: 'Every second',
      description: 'Runs until released, for this test.',
      run: async () => {
        starts++;
        running++;
        mostAtOnce = Math.max(mostAtOnce, running);
        started();
        await released;
        running--;
        finished();
        return 1;
      },
    };
    // how the test knows that the schedule has come round again several times
    let ticks = 0;
    const ticker: Job = {
      name: 'ticker-test-job',
      schedule: '* * * * * *',
      every: 'Every second',
      description: 'Counts the seconds, for this test.',
      exclusive: false,
      recordIdleRuns: false,
      run: async () => {
        ticks++;
        return 0;
      },
    };
    // two instances of the app, each with the whole schedule
    const instances = [0, 1].map(() =>
      startScheduler({ db, clock: systemClock, mail: null, logger }, { jobs: [slow, ticker] }),
    );
    try {
      await firstStart;
      const ticksThen = ticks;
      // both instances' schedules come round at least three more times each while the run lasts
      while (ticks < ticksThen + 6) await new Promise((r) => setTimeout(r, 100));
      expect(starts).toBe(1);
    } finally {
      // stop() waits for the running job (as a draining instance does), so the job is let go once stopping
      const stopped = Promise.all(instances.map((i) => i.stop()));
      release();
      await stopped;
    }
    await firstFinish;
    expect(mostAtOnce).toBe(1);
    await expect.poll(async () => (await runsOf('slow-test-job')).length).toBe(1);
    // the skipped attempts leave no record: only the run that happened is on the Jobs page
    expect((await runsOf('slow-test-job'))[0]).toMatchObject({ outcome: 'ok', rows_touched: 1 });
  }, 60_000);
});

describe('the record of a run', () => {
  it('stores the rows the run wrote and how long it took, and no rows for a run that failed', async () => {
    const tenant = await makeTenant(db);
    const customer = await makeCustomer(db, tenant.id);
    // two yearly terms ended yesterday, and a monthly plan: the rollover of the monthly one writes nothing
    await db('assets').insert([
      ...['RUN-1', 'RUN-2'].map((identifier) => ({
        tenant_id: tenant.id,
        customer_id: customer.id,
        identifier,
        status: 'active',
        plan: 'yearly',
        term_start: '2026-03-01',
        term_end: '2027-02-28',
        next_renewal_on: '2027-03-01',
      })),
      {
        tenant_id: tenant.id,
        customer_id: customer.id,
        identifier: 'RUN-3',
        status: 'active',
        plan: 'monthly',
        term_start: '2027-02-01',
        term_end: '2027-02-28',
      },
    ]);
    const ctx = { db, clock: fixedClock('2027-03-01T00:05:00Z'), mail: null };
    const outcome = await runJob(renewSubscriptions, ctx);
    expect(outcome.counts).toMatchObject({ renewed: 2, rolled_over: 1 });
    const [run] = await runsOf('renew-subscriptions');
    expect(run).toMatchObject({ outcome: 'ok', rows_touched: 2 });
    expect(run!.duration_ms).toBe(run!.finished_at.getTime() - run!.started_at.getTime());

    const broken: Job = {
      name: 'broken-test-job',
      schedule: '0 0 * * *',
      every: 'Daily',
      description: 'Fails, for this test.',
      run: async () => {
        throw new Error('the disk is full');
      },
    };
    await expect(runJob(broken, ctx)).rejects.toThrow('the disk is full');
    const [failed] = await runsOf('broken-test-job');
    expect(failed).toMatchObject({ outcome: 'failed', rows_touched: null });
    expect(failed!.duration_ms).toBeGreaterThanOrEqual(0);
  });
});
