import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { addDays, termFor, todayIn } from '../../src/services/assets/subscription-rules.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser } from '../support/factories.js';
import { startSmtpCatcher } from '../support/smtp.js';

/**
 * Three app instances, three processes, one PostgreSQL: each runs the whole schedule, with the
 * reminder job moved to every 2 seconds (JOB_SCHEDULE_RENEWAL_REMINDERS) so it runs many times
 * over, on whichever instance wins its lock. Every reminder must reach the SMTP server once.
 */
const root = path.resolve(import.meta.dirname, '../..');
const { db, url } = await testDatabase();
const smtp = await startSmtpCatcher();
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await smtp.close();
});

/** `npm start`'s command; resolves when the instance says it is ready. */
function startInstance(
  env: Record<string, string>,
): Promise<{ stop: () => Promise<{ code: number | null; out: string }> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    // vitest sets BASE_URL for Vite's own use; the app must not inherit it
    env: { ...process.env, BASE_URL: '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  const stop = () =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      if (child.exitCode !== null) return resolve({ code: child.exitCode, out });
      child.once('exit', (code) => resolve({ code, out }));
      child.kill('SIGINT');
    });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Portico is ready')) resolve({ stop });
    });
    child.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`instance exited with ${code} before it was ready:\n${out}`)));
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// the other jobs run on their own schedules meanwhile (the hourly scheduled reports may mail the same people)
const reminders = () => smtp.messages.filter((m) => m.subject?.startsWith('Renewal reminder'));

// the instances run on the real clock: these renewals are 10 days from today (the 14-day reminder is due)
const today = todayIn('UTC', new Date());
const renewal = addDays(today, 10);
const tenant = await makeTenant(db, { name: 'Cluster Telematics' });
const customer = await makeCustomer(db, tenant.id, { title: 'Cluster Freight' });
const [group] = await db('groups')
  .insert({ tenant_id: tenant.id, customer_id: customer.id, name: 'Trucks', path: 'Trucks' })
  .returning(['id']);
const recipients = [
  await makeUser(
    db,
    { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
    { email: 'first@cluster.test' },
  ),
  await makeUser(
    db,
    { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
    { email: 'second@cluster.test' },
  ),
  await makeUser(
    db,
    { tenantId: tenant.id, role: 'group_admin', customerId: customer.id },
    { email: 'fleet@cluster.test' },
  ),
];
await db('membership_groups').insert({
  tenant_id: tenant.id,
  membership_id: recipients[2]!.membershipId,
  group_id: (group as { id: string }).id,
});
const term = termFor('yearly', addDays(renewal, -365));
const ASSETS = 12;
await db('assets').insert(
  Array.from({ length: ASSETS }, (_, i) => ({
    tenant_id: tenant.id,
    customer_id: customer.id,
    group_id: (group as { id: string }).id,
    group_path: 'Trucks',
    identifier: `CLUSTER-${String(i + 1).padStart(3, '0')}`,
    status: 'active',
    plan: 'yearly',
    term_start: term.termStart,
    term_end: addDays(renewal, -1),
    next_renewal_on: renewal,
  })),
);

describe('scheduled jobs on three instances', () => {
  it('delivers each renewal reminder exactly once to the SMTP server', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const instances = await Promise.all(
      ports.map((port) =>
        startInstance({
          DATABASE_URL: url,
          DATABASE_POOL_MAX: '4',
          PORT: String(port),
          DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'portico-instance-')),
          SESSION_SECRET: 'the-same-secret-on-every-instance-of-the-cluster',
          SMTP_URL: smtp.url,
          JOBS: 'on',
          SEED: 'off',
          JOB_SCHEDULE_RENEWAL_REMINDERS: '*/2 * * * * *',
          JOB_SCHEDULE_SEND_MAIL: '* * * * * *',
        }),
      ),
    );
    try {
      await until('three reminders', async () => reminders().length >= recipients.length);
      // let the reminder job run several more times, on whichever instance wins the lock
      const runsSoFar = async () =>
        Number(
          (
            await db('job_runs').where({ job: 'renewal-reminders', outcome: 'ok' }).count<{ n: number }[]>({ n: '*' })
          )[0]!.n,
        );
      const seen = await runsSoFar();
      await until('five more reminder runs', async () => (await runsSoFar()) >= seen + 5);
      await until(
        'an empty outbox',
        async () => !(await db('outbox').where({ tenant_id: tenant.id, status: 'queued' }).first('id')),
      );
    } finally {
      const stopped = await Promise.all(instances.map((i) => i.stop()));
      for (const s of stopped) expect(s.code, s.out).toBe(0);
    }

    const received = reminders()
      .map((m) => (m.to as { text: string }).text)
      .sort();
    expect(received).toEqual(recipients.map((r) => r.email).sort());
    for (const m of reminders()) {
      expect(m.subject).toBe(`Renewal reminder: ${ASSETS} subscriptions renew within 4 weeks`);
      for (let i = 1; i <= ASSETS; i++) expect(m.text).toContain(`CLUSTER-${String(i).padStart(3, '0')}`);
      expect(m.text).toContain('(in 10 days)');
    }
    const sent = await db('renewal_reminders_sent')
      .where({ tenant_id: tenant.id })
      .select('week')
      .count({ n: '*' })
      .groupBy('week');
    expect(sent).toEqual([{ week: 3, n: ASSETS * recipients.length }]);
    const outbox = await db('outbox')
      .where({ tenant_id: tenant.id, kind: 'renewal_reminder' })
      .select('status', 'attempts');
    expect(outbox).toEqual(recipients.map(() => ({ status: 'sent', attempts: 1 })));
    const runs = await db('job_runs').where({ job: 'renewal-reminders', outcome: 'ok' }).select('counts', 'instance');
    expect(runs.filter((r: { counts: { mails: number } }) => r.counts.mails > 0)).toHaveLength(1);
  }, 120_000);
});
