import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Acked, checkReminders, findWrites, LagSample } from './checks.js';
import type { Sample, Throughput } from './load.js';

/** What the scale test prints, and whether it passed. */

export type Phase = { name: string; start: number; end: number; fault: { start: number; end: number } | null };

export const loadAverage = () =>
  execFileSync('uptime', { encoding: 'utf8' })
    .trim()
    .replace(/^.*load/, 'load');

export type Results = {
  rates: Throughput[];
  samples: Sample[];
  survived: Record<string, { alive: number; of: number }>;
  acked: Acked;
  found: Awaited<ReturnType<typeof findWrites>>;
  reminders: Awaited<ReturnType<typeof checkReminders>>;
  jobRuns: { job: string; instance: string; trigger: string; outcome: string; counts: unknown }[];
  lag: LagSample[];
  catchUpMs: number;
  replicaServed: number;
  exits: (number | null | undefined)[];
};

/** "503×2 no answer×1": how many of each status. */
function tally<T>(list: T[], key: (x: T) => string): string {
  const counts = new Map<string, number>();
  for (const x of list) counts.set(key(x), (counts.get(key(x)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}×${n}`).join(' ');
}

const percentile = (values: number[], p: number) => {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

export function report(r: Results, run: { phases: Phase[]; startedAt: number; outageMs: number }): number {
  const { phases } = run;
  const failures: string[] = [];
  console.log('\n=== scale test ===');
  console.log(`machine: ${os.cpus().length} cores, ${loadAverage()} (at the end of the run)`);
  const one = r.rates[0];
  console.log('\nrequests/s on the asset list (htmx fragment, 8 connections, through HAProxy):');
  r.rates.forEach((t, i) =>
    console.log(
      `  ${i + 1} instance${i ? 's' : ' '}: ${String(t.rps).padStart(5)} req/s  p50 ${t.p50} ms  p99 ${t.p99} ms` +
        `  (non-2xx ${t.non2xx}, errors ${t.errors})${i ? `  ×${(t.rps / one!.rps).toFixed(2)} of one` : ''}`,
    ),
  );

  console.log('\nerrors per phase (5xx or no answer); a request that overlaps a fault window counts in that fault:');
  const bad = (s: Sample) => s.status === 0 || s.status >= 500;
  const overlaps = (s: Sample, w: { start: number; end: number }) => s.start < w.end && s.end > w.start;
  const faults = phases.filter((p) => p.fault);
  const byStatus = (list: Sample[]) => tally(list, (s) => String(s.status || 'no answer')) || '';
  for (const p of phases.filter((x) => x.name !== 'throughput')) {
    const inPhase = r.samples.filter((s) => s.start >= p.start && s.start < p.end);
    const secs = (p.end - p.start) / 1000;
    const lat = inPhase.filter((s) => !bad(s)).map((s) => s.end - s.start);
    const answeredBy = tally(
      inPhase.filter((s) => s.by).sort((a, b) => a.by.localeCompare(b.by)),
      (s) => s.by,
    );
    console.log(
      `  ${p.name}: ${inPhase.length} requests in ${secs.toFixed(0)} s (${(inPhase.length / secs).toFixed(0)}/s, ` +
        `p50 ${percentile(lat, 50)} ms, p99 ${percentile(lat, 99)} ms; answered by ${answeredBy})`,
    );
    if (p.fault) {
      const inside = r.samples.filter((s) => bad(s) && overlaps(s, p.fault!));
      const secs = ((p.fault.end - p.fault.start) / 1000).toFixed(1);
      console.log(`      in its fault window (${secs} s): ${inside.length} errors ${byStatus(inside)}`);
    }
    const outside = inPhase.filter((s) => bad(s) && !faults.some((f) => overlaps(s, f.fault!)));
    console.log(`      outside any fault window: ${outside.length} errors ${byStatus(outside)}`);
    for (const s of outside.slice(0, 5))
      console.log(
        `        ${s.status || 'no answer'} ${s.user}: ${s.what}, ${((s.start - p.start) / 1000).toFixed(1)} s in`,
      );
    if (outside.length) failures.push(`${outside.length} errors outside the fault windows in "${p.name}"`);
  }
  const refused = r.samples.filter((s) => s.status === 403 || s.status === 422 || s.status === 400);
  if (refused.length)
    console.log(`  (and ${refused.length} answers 400/403/422: ${[...new Set(refused.map((s) => s.what))]})`);

  console.log('\nsessions that survived each fault (still signed in, never sent to /login):');
  for (const [fault, s] of Object.entries(r.survived)) console.log(`  ${fault}: ${s.alive} of ${s.of}`);
  const kill = r.survived['instance killed'];
  if (!kill || kill.alive !== kill.of) failures.push('a session did not survive the instance kill');

  console.log('\nwrites acknowledged and found afterwards on the primary:');
  const f = r.found;
  console.log(`  tickets opened: ${f.tickets.acked} acknowledged, ${f.tickets.lost.length} lost`);
  console.log(
    `  ticket comments: ${f.comments.acked} acknowledged, ${f.comments.found} found, ${f.comments.lost.length} lost`,
  );
  console.log(
    `  location batches (API): ${f.batches.acked} acknowledged (${f.batches.records} records), ` +
      `${f.batches.found} found, ` +
      `${f.batches.lost.length} lost`,
  );
  const lost = [...f.tickets.lost, ...f.comments.lost, ...f.batches.lost];
  for (const w of lost) {
    const during = phases.find((p) => w.at >= p.start && w.at <= p.end)?.name ?? 'outside any phase';
    const t = ((w.at - run.startedAt) / 1000).toFixed(1);
    console.log(`  LOST ${w.what}, acknowledged by ${w.by || '?'} at ${t} s, during "${during}"`);
  }
  if (lost.length) failures.push(`${lost.length} acknowledged writes lost`);

  const m = r.reminders;
  const counts = tally(m.perSubscription, (n) => `${n} mail${n === 1 ? '' : 's'}`);
  console.log('\nrenewal and reminder jobs, started on the three instances at once:');
  for (const run of r.jobRuns)
    console.log(`  ${run.job} on ${run.instance} (${run.trigger}): ${run.outcome} ${JSON.stringify(run.counts)}`);
  console.log(`  (6 starts, ${r.jobRuns.length} runs recorded: an instance that finds the job's lock taken skips it)`);
  console.log(`  reminder mails at the SMTP catcher: ${m.mails}, for ${m.people} people recorded as reminded`);
  console.log(`  reminders per subscription and recipient (20 subscriptions × 2 people): ${counts}`);
  console.log(`  any subscription mentioned twice to the same person, in any mail: ${m.twiceAnywhere}`);
  console.log(
    `  lapsed yearly terms renewed exactly once: ${m.renewedOnce} of ${m.lapsed} (${m.renewalAudits} audit entries)`,
  );
  if (m.perSubscription.some((n) => n !== 1)) failures.push('a reminder was sent twice or not at all');
  if (m.twiceAnywhere) failures.push('a subscription was in two reminders to the same person');
  if (m.mails !== m.people) failures.push(`${m.mails} reminder mails for ${m.people} people`);
  if (m.renewedOnce !== m.lapsed || m.renewalAudits !== m.lapsed) failures.push('a lapsed term was not renewed once');

  const calm = r.lag.filter((s) => !phases.some((p) => p.fault && s.at >= p.fault.start && s.at < p.fault.end));
  const lags = calm.map((s) => s.seconds).filter((s): s is number => s !== null);
  console.log('\nreplica:');
  console.log(
    `  replay lag seen by the primary outside the fault windows: p50 ${(percentile(lags, 50) * 1000).toFixed(0)} ms,` +
      ` p99 ${(percentile(lags, 99) * 1000).toFixed(0)} ms, max ${(Math.max(0, ...lags) * 1000).toFixed(0)} ms` +
      ` (${lags.length} samples)`,
  );
  console.log(
    `  after being stopped ${run.outageMs / 1000} s, caught up ${(r.catchUpMs / 1000).toFixed(1)} s after its start`,
  );
  const heavy = ['asset list', 'asset list CSV', 'staff asset list', 'partner usage log', 'call summaries'];
  const heavyOk = r.samples.filter((s) => heavy.includes(s.what) && s.status === 200).length;
  console.log(
    `  transactions on the replica's database: ${r.replicaServed}; heavy reads answered in the run: ${heavyOk}\n` +
      "  (those right after a person's own change come from the primary; each instance checks the lag once a second)",
  );
  console.log(`\ninstances stopped with exit codes ${r.exits.join(', ')}`);
  if (r.exits.some((c) => c !== 0)) failures.push('an instance did not stop cleanly');

  console.log(`\ntook ${((Date.now() - run.startedAt) / 1000).toFixed(0)} s`);
  if (failures.length) {
    console.log(`\nFAILED:\n  ${failures.join('\n  ')}`);
    return 1;
  }
  console.log(
    '\nOK: no acknowledged write lost, every reminder once, no 5xx outside the fault windows, sessions survived',
  );
  return 0;
}
