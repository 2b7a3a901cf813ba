import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ParsedMail } from 'mailparser';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { insertUsageRecords } from '../../src/services/billing/index.js';
import { addDays, termFor, todayIn } from '../../src/services/assets/subscription-rules.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser } from '../support/factories.js';
import { startServer, type RunningServer } from '../support/processes.js';
import { startSmtpCatcher } from '../support/smtp.js';

/**
 * The weekly fleet digest and the monthly statement on three app instances, three processes, one
 * PostgreSQL, twice over (two rounds of instances): the report job moved to every 2 seconds
 * (JOB_SCHEDULE_SCHEDULED_REPORTS) runs many times on whichever instance wins its lock, and each
 * report reaches the SMTP server once per person, with its CSV attached. A person who unsubscribes by
 * the mail's one-click link gets neither again, even once a new period is open for them.
 */
const { db, url } = await testDatabase();
const smtp = await startSmtpCatcher();
const running: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await smtp.close();
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// the instances run on the real clock: renewals 10 days from today, usage in the month before this one
const now = new Date();
const today = todayIn('UTC', now);
const renewal = addDays(today, 10);
const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15, 12));
const tenant = await makeTenant(db, { name: 'Report Telematics' });
const customer = await makeCustomer(db, tenant.id, { title: 'Report Freight', account_id: 'RF-1001' });
const [group] = await db('groups')
  .insert({ tenant_id: tenant.id, customer_id: customer.id, name: 'Vans', path: 'Vans' })
  .returning(['id']);
const groupId = (group as { id: string }).id;
const owner = await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
  { email: 'owner@report.test', name: 'Olive Owner' },
);
const leaver = await makeUser(
  db,
  { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
  { email: 'leaver@report.test', name: 'Lee Leaver' },
);
const fleet = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_admin', customerId: customer.id },
  { email: 'fleet@report.test', name: 'Fay Fleet' },
);
// a supervisor gets no report at all
await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_supervisor', customerId: customer.id },
  { email: 'supervisor@report.test' },
);
await db('membership_groups').insert({ tenant_id: tenant.id, membership_id: fleet.membershipId, group_id: groupId });
const term = termFor('yearly', addDays(renewal, -365));
const ASSETS = 3;
await db('assets').insert(
  Array.from({ length: ASSETS }, (_, i) => ({
    tenant_id: tenant.id,
    customer_id: customer.id,
    group_id: groupId,
    group_path: 'Vans',
    identifier: `VAN-${i + 1}`,
    status: 'active',
    plan: 'yearly',
    term_start: term.termStart,
    term_end: addDays(renewal, -1),
    next_renewal_on: renewal,
  })),
);
await db.transaction((trx) =>
  insertUsageRecords(trx, tenant.id, [
    ...[1, 2, 3].map(() => ({
      customerId: customer.id,
      product: 'sms' as const,
      occurredAt: lastMonth,
      direction: 'outbound' as const,
      status: 'delivered' as const,
      fromNumber: '+441000000001',
      toNumber: '+441000000002',
      priceMinor: 25,
    })),
    {
      customerId: customer.id,
      product: 'voice' as const,
      occurredAt: lastMonth,
      direction: 'outbound' as const,
      status: 'answered' as const,
      fromNumber: '+441000000001',
      toNumber: '+441000000003',
      durationSeconds: 120,
      priceMinor: 300,
    },
  ]),
);

const secret = 'the-same-secret-on-every-instance-of-the-cluster';
const isReport = (m: ParsedMail) => /^(Weekly fleet digest|Monthly statement)/.test(m.subject ?? '');
const reports = () => smtp.messages.filter(isReport);
const toOf = (m: ParsedMail) => (m.to as { text: string }).text;
const header = (m: ParsedMail, name: string) =>
  m.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]+:\s*/, '');

async function reportRuns(): Promise<number> {
  const [row] = await db('job_runs')
    .where({ job: 'scheduled-reports', outcome: 'ok' })
    .count<{ n: number }[]>({ n: '*' });
  return Number(row!.n);
}

/** Three instances with the report job every 2 seconds; resolves with their ports once all are ready. */
async function startThree(): Promise<number[]> {
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const servers = await Promise.all(
    ports.map((port) =>
      startServer(
        {
          DATABASE_URL: url,
          DATABASE_POOL_MAX: '4',
          PORT: String(port),
          DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'portico-reports-')),
          SESSION_SECRET: secret,
          SMTP_URL: smtp.url,
          JOBS: 'on',
          SEED: 'off',
          JOB_SCHEDULE_SCHEDULED_REPORTS: '*/2 * * * * *',
          JOB_SCHEDULE_SEND_MAIL: '* * * * * *',
        },
        /Portico is ready/,
      ),
    ),
  );
  running.push(...servers);
  return ports;
}

async function stopAll() {
  const stopped = await Promise.all(running.splice(0).map((s) => s.stop()));
  for (const s of stopped) expect(s.code, s.out).toBe(0);
}

/** Lets the report job run `n` more times (on any instance), then waits for the outbox to drain. */
async function moreRuns(n: number) {
  const seen = await reportRuns();
  await until(`${n} more report runs`, async () => (await reportRuns()) >= seen + n);
  await until(
    'an empty outbox',
    async () => !(await db('outbox').where({ tenant_id: tenant.id, status: 'queued' }).first('id')),
  );
}

describe('scheduled reports on three instances, over two runs', () => {
  it('mails each digest and statement once with its CSV, and nothing after a one-click unsubscribe', async () => {
    // first run: three instances
    const ports = await startThree();
    try {
      await until('five reports', async () => reports().length >= 5);
      await moreRuns(5);

      const got = reports()
        .map((m) => `${toOf(m)} ${m.subject!.startsWith('Weekly') ? 'digest' : 'statement'}`)
        .sort();
      expect(got).toEqual([
        'fleet@report.test digest',
        'leaver@report.test digest',
        'leaver@report.test statement',
        'owner@report.test digest',
        'owner@report.test statement',
      ]);

      const digest = reports().find((m) => toOf(m) === 'fleet@report.test')!;
      expect(digest.text).toContain(`${ASSETS} assets renew within the next 4 weeks`);
      expect(header(digest, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
      expect(digest.attachments).toHaveLength(1);
      const dueCsv = digest.attachments[0]!;
      expect(dueCsv.contentType).toBe('text/csv');
      expect(dueCsv.filename).toMatch(/\.csv$/);
      const dueLines = dueCsv.content.toString('utf8').trim().split('\n');
      expect(dueLines).toHaveLength(ASSETS + 1);
      for (let i = 1; i <= ASSETS; i++) expect(dueLines.join('\n')).toContain(`VAN-${i}`);

      const statement = reports().find((m) => toOf(m) === 'owner@report.test' && m.subject!.startsWith('Monthly'))!;
      expect(statement.subject).toContain('RF-1001');
      expect(statement.text).toMatch(/SMS: 3 records, €0\.75/);
      expect(statement.text).toMatch(/Voice: 1 record, €3\.00/);
      expect(statement.text).toContain('Charges in the month: €3.75');
      expect(statement.attachments).toHaveLength(1);
      const monthCsv = statement.attachments[0]!.content.toString('utf8');
      expect(statement.attachments[0]!.filename).toMatch(/^statement-RF-1001-\d{4}-\d{2}\.csv$/);
      expect(monthCsv.split('\n')[0]).toBe('Product,Day,Records,Charges (EUR)');
      expect(monthCsv).toContain(`SMS,${lastMonth.toISOString().slice(0, 10)},3,0.75`);

      // the leaver unsubscribes from both with the mails' one-click links, as a mail program does
      for (const m of reports().filter((r) => toOf(r) === 'leaver@report.test')) {
        const link = /<([^>]+)>/.exec(header(m, 'list-unsubscribe') ?? '')![1]!;
        const res = await fetch(`http://127.0.0.1:${ports[0]}${new URL(link).pathname}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        });
        expect(res.status).toBe(200);
      }
    } finally {
      await stopAll();
    }
    const off = await db('notification_settings').where({ user_id: leaver.id, enabled: false }).pluck('kind');
    expect(off.sort()).toEqual(['monthly_statement', 'weekly_digest']);
    // a new period opens for the leaver only: without the switch, a report would go again
    await db('report_deliveries').where({ tenant_id: tenant.id, user_id: leaver.id }).del();

    // second run: three new instances, the job again many times over
    await startThree();
    try {
      await moreRuns(6);
    } finally {
      await stopAll();
    }

    expect(reports()).toHaveLength(5);
    const deliveries = await db('report_deliveries')
      .where({ tenant_id: tenant.id })
      .orderBy(['user_id', 'report'])
      .select('user_id', 'report');
    expect(deliveries.map((d: { user_id: string; report: string }) => `${d.user_id} ${d.report}`).sort()).toEqual(
      [`${fleet.id} weekly_digest`, `${owner.id} monthly_statement`, `${owner.id} weekly_digest`].sort(),
    );
    const outbox = await db('outbox')
      .where({ tenant_id: tenant.id })
      .whereIn('kind', ['weekly_digest', 'monthly_statement'])
      .select('status', 'attempts');
    expect(outbox).toHaveLength(5);
    for (const o of outbox) expect(o).toEqual({ status: 'sent', attempts: 1 });
  }, 240_000);
});
