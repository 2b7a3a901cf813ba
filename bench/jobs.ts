import type { Db } from '../src/db/index.js';
import { formatDay } from '../src/services/assets/rules.js';
import { sendRenewalReminders } from '../src/services/assets/renewal-reminders.js';
import { renewDueSubscriptions } from '../src/services/assets/renewals.js';
import { addDays, addMonths, todayIn, type Day } from '../src/services/assets/subscription-rules.js';

/**
 * DESIGN.md section 7: the renewal and reminder jobs over every subscription in the bench database
 * (1,000,000 by default), each run twice the same day to show that the rerun does nothing twice.
 * The jobs' services are timed, without the scheduler's lock and run record:
 * - the renewal job on a usual day (tomorrow: the terms that end today renew);
 * - on the 1st of the month after next with the job off until then, the heaviest case: five weeks
 *   or more of yearly and quarterly terms renew at once, and the monthly plans roll over (counted,
 *   not written: a monthly term is derived);
 * - the reminder job today (about 8 % of the assets are in the 4-week window);
 * - last, the renewal job on the 1st of next month as the schedule meets it: the runs up to the day
 *   before are committed batch by batch (timed on their own) and the table vacuumed, as autovacuum
 *   would have, then that day's yearly and quarterly terms renew and every monthly plan rolls over.
 * Each timed case runs inside a transaction that is rolled back (the jobs' own batch transactions
 * become savepoints), so the next run measures the same work; only the runs before the 1st are
 * committed (in one transaction, the old index entries of the terms it renewed would still be live
 * to the run of the 1st, which would then walk them all), so they move a kept database
 * (BENCH_KEEP) on to the end of this month.
 */
export async function benchJobs(db: Db, opts: { now?: Date } = {}): Promise<string[]> {
  const now = opts.now ?? new Date();
  const today = todayIn('UTC', now);
  const heavyDay: Day = `${addMonths(today, 2).slice(0, 8)}01`;
  const [{ n }] = (await db('assets').count<{ n: number }[]>({ n: '*' })) as [{ n: number }];
  const subscriptions = `${n.toLocaleString('en-US')} subscriptions`;
  const num = (v: number) => v.toLocaleString('en-US');
  const lines: string[] = [];

  /** Runs fn twice in one transaction, timing each, then rolls everything back. */
  async function twice<T>(fn: (trx: Db) => Promise<T>) {
    let out: [T, string, T, string] | undefined;
    await db
      .transaction(async (trx) => {
        const t0 = performance.now();
        const first = await fn(trx);
        const t1 = performance.now();
        const second = await fn(trx);
        const t2 = performance.now();
        out = [first, seconds(t1 - t0), second, seconds(t2 - t1)];
        throw new Rollback();
      })
      .catch((err: unknown) => {
        if (!(err instanceof Rollback)) throw err;
      });
    return out!;
  }

  const tomorrow = addDays(today, 1);
  const [daily, dailyTime] = await twice((trx) => renewDueSubscriptions(trx, tomorrow));
  lines.push(
    `renewal job over ${subscriptions}, a usual day (${formatDay(tomorrow)}): ${dailyTime}` +
      ` (${num(daily.renewed)} renewed, ${num(daily.rolled_over)} rolled over, ${daily.batches} batches)`,
  );
  const [heavy, heavyTime, again, againTime] = await twice((trx) => renewDueSubscriptions(trx, heavyDay));
  lines.push(
    `renewal job over ${subscriptions} after weeks off (${formatDay(heavyDay)}, all due since ${formatDay(today)}` +
      ` at once): ${heavyTime} (${num(heavy.renewed)} renewed, ${num(heavy.rolled_over)} monthly rolled over,` +
      ` ${heavy.batches} batches)`,
  );
  lines.push(
    `renewal job again that day: ${againTime} (${num(again.renewed + again.rolled_over)} renewed or rolled over)`,
  );

  const links = { baseUrl: 'http://localhost:3000', secret: 'bench-secret-that-is-long-enough-for-the-check' };
  const [reminders, reminderTime, rerun, rerunTime] = await twice((trx) => sendRenewalReminders(trx, { now, links }));
  lines.push(
    `reminder job over ${subscriptions}: ${reminderTime},` +
      ` ${num(reminders.mails)} mails (${num(reminders.reminders)} reminders)`,
  );
  lines.push(`reminder job again the same day: ${rerunTime}, ${num(rerun.mails)} mails`);

  const firstDay: Day = `${addMonths(today, 1).slice(0, 8)}01`;
  const t0 = performance.now();
  const before = await renewDueSubscriptions(db, addDays(firstDay, -1));
  const beforeTime = seconds(performance.now() - t0);
  await db.raw('vacuum (analyze) assets');
  const [first, firstTime, firstAgain, firstAgainTime] = await twice((trx) => renewDueSubscriptions(trx, firstDay));
  lines.push(
    `renewal job up to ${formatDay(addDays(firstDay, -1))}, committed batch by batch: ${beforeTime}` +
      ` (${num(before.renewed)} renewed, ${before.batches} batches)`,
  );
  lines.push(
    `renewal job over ${subscriptions} on the 1st (${formatDay(firstDay)}, after the runs before): ${firstTime}` +
      ` (${num(first.renewed)} renewed, ${num(first.rolled_over)} monthly rolled over, ${first.batches} batches);` +
      ` again that day ${firstAgainTime} (${num(firstAgain.renewed)} renewed)`,
  );
  return lines;
}

class Rollback extends Error {}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
