import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded.js';
import { createDb, ensureDatabase, migrate, type Db } from '../../src/db/index.js';
import { seedDemo } from '../../src/demo/data.js';
import { addDays, addMonths, termFor, todayIn } from '../../src/services/assets/subscription-rules.js';
import { makeApiKey, makeAsset, makeCustomer, makeGroup, makeUser } from '../../tests/support/factories.js';
import { startSmtpCatcher, type SmtpCatcher } from '../../tests/support/smtp.js';
import { caughtUp, startPrimary, startStandby, type PgServer } from '../../tests/support/streaming-replica.js';
import { killAll, stopAll } from './children.js';
import { drive, orSignInAgain, Person, throughput, type Action, type Sample, type Throughput } from './load.js';
import { ensurePackages, portico, startHaproxy, startPgBouncer, until, type Balancer, type Instance } from './stack.js';

/**
 * `npm run scale-test`: a PostgreSQL primary and a streaming replica, PgBouncer (transaction pooling) in
 * front of the primary, three Portico instances with every job on, HAProxy in front of them; signed-in
 * people of several roles and an API client working through HAProxy while one instance is killed, the
 * primary restarts, the replica stops for a while, and the renewal and reminder jobs are started on
 * all three instances at once. All on 127.0.0.1; every process a child of this one, bounded in time.
 * Exit 0 only when no acknowledged write is lost, every reminder went out exactly once, nothing
 * answered 5xx outside the fault windows, and every session survived the instance kill.
 */

const seconds = (name: string, fallback: number) => Number(process.env[name] ?? fallback) * 1000;
const CALM_MS = seconds('SCALE_CALM_SECONDS', 15); // steady load before the faults and after each one
const OUTAGE_MS = seconds('SCALE_OUTAGE_SECONDS', 8); // how long the killed or stopped part stays away
const THROUGHPUT_MS = seconds('SCALE_THROUGHPUT_SECONDS', 10); // each of the 1, 2 and 3 instance runs
const DEADLINE_MS = seconds('SCALE_DEADLINE_SECONDS', 470); // the whole run, set-up and tear-down included
/** after a fault is repaired: HAProxy's checks (rise 2 × 1 s) and the pools need a moment to see it */
const GRACE_MS = 3000;
const LIFETIME_S = Math.ceil(DEADLINE_MS / 1000) + 60;
const PAUSE_MS = 20; // between one person's requests

const started = Date.now();
const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s]`;
const say = (line: string) => console.log(`${stamp()} ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const loadAverage = () =>
  execFileSync('uptime', { encoding: 'utf8' })
    .trim()
    .replace(/^.*load/, 'load');

type Phase = { name: string; start: number; end: number; fault: { start: number; end: number } | null };
const phases: Phase[] = [];
async function phase(name: string, run: () => Promise<{ start: number; end: number } | null | void>) {
  const start = Date.now();
  say(`phase: ${name}`);
  const fault = (await run()) ?? null;
  phases.push({ name, start, end: Date.now(), fault });
}

const servers: { primary?: PgServer; standby?: PgServer } = {};
let workDir = '';
process.on('exit', () => {
  killAll();
  servers.standby?.kill();
  servers.primary?.kill();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    console.error(`scale-test: ${sig}, stopping everything`);
    process.exit(130);
  });
setTimeout(() => {
  console.error(`scale-test: not done within ${DEADLINE_MS / 1000} s; stopping everything`);
  process.exit(1);
}, DEADLINE_MS).unref();

async function main(): Promise<number> {
  ensurePackages();
  say(`${os.cpus().length} cores, ${loadAverage()}`);
  workDir = mkdtempSync(path.join(os.tmpdir(), 'portico-scale-'));
  chmodSync(workDir, 0o755); // the postgres user reaches its data directories and PgBouncer its files
  const logDir = path.resolve(import.meta.dirname, '../../.data/scale-test');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  say(`logs in ${path.relative(process.cwd(), logDir)}/`);

  // ---- PostgreSQL: the primary with the demo data, then a replica from a base backup of it ----
  const primary = (servers.primary = await startPrimary({
    dir: path.join(workDir, 'primary'),
    lifetimeSeconds: LIFETIME_S,
  }));
  await ensureDatabase(primary.url(), 'portico');
  const db = createDb(primary.url('portico'), { poolMax: 4 });
  await migrate(db);
  await seedDemo(db);
  const fixtures = await addFixtures(db);
  const standby = (servers.standby = await startStandby(primary, {
    dir: path.join(workDir, 'replica'),
    lifetimeSeconds: LIFETIME_S,
  }));
  say(`primary on ${primary.port}, streaming replica on ${standby.port}`);

  const [bouncerPort, balancerPort, ...ports] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const pgbouncer = startPgBouncer({
    dir: path.join(workDir, 'pgbouncer'),
    logDir,
    port: bouncerPort!,
    primaryPort: primary.port,
    lifetimeSeconds: LIFETIME_S,
  });
  const viaBouncer = `postgres://portico:portico@127.0.0.1:${bouncerPort}/portico`;
  await until('PgBouncer', 30_000, async () => {
    const probe = createDb(viaBouncer, { poolMax: 1 });
    const ok = await probe.raw('select 1').then(
      () => true,
      () => false,
    );
    await probe.destroy();
    if (!pgbouncer.running()) throw new Error(`PgBouncer exited:\n${pgbouncer.tail()}`);
    return ok;
  });
  const smtp = await startSmtpCatcher();
  const base = `http://127.0.0.1:${balancerPort}`;
  const instances: Instance[] = ports.map((port, i) =>
    portico({
      name: `app${i + 1}`,
      port: port!,
      dataDir: path.join(workDir, `app${i + 1}`),
      logDir,
      lifetimeSeconds: LIFETIME_S,
      env: {
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        BASE_URL: base,
        DATABASE_URL: viaBouncer,
        DATABASE_REPLICA_URL: standby.url('portico'),
        DATABASE_POOL_MAX: '6',
        SESSION_SECRET: 'the-same-secret-on-every-instance-of-the-scale-test',
        SMTP_URL: smtp.url,
        JOBS: 'on',
        SEED: 'off',
        LOG_LEVEL: 'warn',
        API_RATE_LIMIT: '1000000',
      },
    }),
  );
  const balancer = startHaproxy({
    dir: path.join(workDir, 'haproxy'),
    logDir,
    port: balancerPort!,
    servers: instances.map((i) => ({ name: i.name, port: i.port })),
    lifetimeSeconds: LIFETIME_S,
  });
  await Promise.all(instances.map((i) => i.start()));
  await allUp(balancer, instances);
  say(`PgBouncer on ${bouncerPort}, instances on ${ports.join(', ')}, HAProxy on ${balancerPort}`);

  // ---- the people, signed in through HAProxy ----
  const samples: Sample[] = [];
  const person = (name: string, email: string, password = 'portico-demo') =>
    new Person(base, name, email, password, samples);
  const crew = {
    owner1: person('company admin 1', 'owner@northwind.test'),
    owner2: person('company admin 2', 'owner@northwind.test'),
    fleet: person('group admin', 'fleet@northwind.test'),
    viewer: person('group supervisor', 'viewer@northwind.test'),
    partner: person('partner viewer', 'partner@bluewave.test'),
    admin: person('tenant admin', 'admin@demo.test'),
    support: person('support agent', 'support@demo.test'),
  };
  const people = Object.values(crew);
  for (const p of people) await p.signIn();
  const acked = { tickets: [] as string[], comments: [] as string[], batches: [] as { second: number; n: number }[] };
  const tickets: string[] = [];
  for (const owner of [crew.owner1, crew.owner2]) {
    const subject = `scale-test ticket ${tickets.length + 1}`;
    const form = { asset_id: '', subject, category: 'other', message: 'Opened by the scale test.', _csrf: owner.csrf };
    const res = await owner.request('open ticket', 'POST', '/tickets', { form });
    if (res.status !== 303 || !res.location) throw new Error(`opening a ticket answered ${res.status}`);
    tickets.push(res.location.split('/').pop()!);
    acked.tickets.push(subject);
  }
  const lag = replicaLagSampler(primary);

  // ---- requests/s on one page with 1, 2 and 3 instances ----
  const rates: Throughput[] = [];
  await phase('throughput', async () => {
    for (let n = 1; n <= 3; n++) {
      for (const [i, inst] of instances.entries()) await balancer.setServer(inst.name, i < n ? 'ready' : 'maint');
      await sleep(1000);
      await throughput(`${base}/assets`, crew.viewer.cookie, 2, 8); // warm-up, not counted
      rates.push(await throughput(`${base}/assets`, crew.viewer.cookie, THROUGHPUT_MS / 1000, 8));
      say(`  ${n} instance${n > 1 ? 's' : ''}: ${rates[n - 1]!.rps} requests/s`);
    }
    for (const inst of instances) await balancer.setServer(inst.name, 'ready');
    await allUp(balancer, instances);
  });

  // ---- the load, and the faults under it ----
  let stopping = false;
  const serial = { comment: 0, batch: 0 };
  const northwind = fixtures.northwindAssets;
  const inGroup = fixtures.truckAssets;
  const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]!;
  const get = (what: string, url: () => string, headers?: Record<string, string>): Action => {
    return async (p) => orSignInAgain(p, await p.request(what, 'GET', url(), { headers }));
  };
  const comment: Action = async (p) => {
    const body = `scale-test comment ${++serial.comment} ${fixtures.run}`;
    const res = await p.request('comment', 'POST', `/tickets/${pick(tickets)}/comments`, {
      form: { body, _csrf: p.csrf },
    });
    if (res.status === 303 && !res.location?.startsWith('/login')) acked.comments.push(body);
    await orSignInAgain(p, res);
  };
  const apiClient = new Person(base, 'API client', '', '', samples);
  const postBatch: Action = async () => {
    const batch = ++serial.batch;
    const second = fixtures.locationsFrom + batch * 1000;
    const records = northwind.slice(0, 200).map((a, i) => ({
      identifier: a.identifier,
      latitude: 50 + i / 1000,
      longitude: 4 + (batch % 1000) / 1000,
      recorded_at: new Date(second + i).toISOString(),
    }));
    const res = await apiClient.request('ingest', 'POST', '/api/v1/locations', {
      json: { records },
      headers: { authorization: `Bearer ${fixtures.apiKey}`, 'idempotency-key': `scale-${fixtures.run}-${batch}` },
    });
    if (res.status === 200) acked.batches.push({ second, n: records.length });
  };
  const fragment = { 'hx-request': 'true' };
  const roles: { person: Person; actions: Action[] }[] = [
    ...[crew.owner1, crew.owner2].map((person) => ({
      person,
      actions: [
        get('asset list', () => '/assets', fragment),
        get('asset list', () => '/assets?tab=active&size=50'),
        get('asset', () => `/assets/${pick(northwind).id}`),
        get('asset list CSV', () => '/assets.csv?scope=page'),
        comment,
      ],
    })),
    ...[crew.fleet, crew.viewer].map((person) => ({
      person,
      actions: [get('asset list', () => '/assets', fragment), get('asset', () => `/assets/${pick(inGroup).id}`)],
    })),
    {
      person: crew.partner,
      actions: [
        get('partner usage log', () => `/partner/customers/${fixtures.northwindId}/usage/sms`),
        get('partner usage log', () => `/partner/customers/${fixtures.northwindId}/usage/voice`, fragment),
      ],
    },
    {
      person: crew.admin,
      actions: [
        get('staff asset list', () => `/admin/customers/${fixtures.northwindId}/assets`, fragment),
        get('call summaries', () => `/admin/customers/${fixtures.northwindId}/billing/summaries`),
        get('tickets', () => '/admin/tickets'),
      ],
    },
    { person: crew.support, actions: [get('tickets', () => '/admin/tickets')] },
    { person: apiClient, actions: [postBatch] },
  ];
  const load = drive(roles, () => stopping, PAUSE_MS);

  const survived: Record<string, { alive: number; of: number }> = {};
  /** Each person's session, asked once the fault is over: still signed in, and never sent to /login meanwhile. */
  const sessionsAfter = async (fault: string, lostBefore: number[]) => {
    const alive = await Promise.all(people.map(async (p, i) => (await p.signedIn()) && p.lost === lostBefore[i]));
    survived[fault] = { alive: alive.filter(Boolean).length, of: people.length };
  };
  const lostNow = () => people.map((p) => p.lost);

  await phase('steady load', () => sleep(CALM_MS));

  await phase('(a) instance app2 killed (SIGKILL) and started again', async () => {
    const before = lostNow();
    const start = Date.now();
    instances[1]!.child!.kill();
    await sleep(OUTAGE_MS);
    await instances[1]!.start();
    await allUp(balancer, instances);
    const end = Date.now() + GRACE_MS;
    await sleep(GRACE_MS);
    await sessionsAfter('instance killed', before);
    await sleep(CALM_MS);
    return { start, end };
  });

  await phase('(b) primary PostgreSQL restarted', async () => {
    const before = lostNow();
    const start = Date.now();
    await primary.stop();
    await sleep(OUTAGE_MS);
    await primary.start();
    await allUp(balancer, instances);
    const end = Date.now() + GRACE_MS;
    await sleep(GRACE_MS);
    await sessionsAfter('primary restarted', before);
    await sleep(CALM_MS);
    return { start, end };
  });

  let catchUpMs = 0;
  await phase('(c) replica stopped for a while', async () => {
    const before = lostNow();
    const start = Date.now();
    await standby.stop();
    await sleep(OUTAGE_MS);
    const back = Date.now();
    await standby.start();
    await caughtUp(primary.url('portico'), standby.url('portico'));
    catchUpMs = Date.now() - back;
    const end = Date.now() + GRACE_MS;
    await sleep(GRACE_MS);
    await sessionsAfter('replica stopped', before);
    await sleep(CALM_MS);
    return { start, end };
  });

  const jobsAt = new Date();
  await phase('(d) renewal and reminder jobs started on all three instances at once', async () => {
    const runs = instances.flatMap((inst) =>
      ['renew-subscriptions', 'renewal-reminders'].map((job) =>
        crew.admin.request('run job', 'POST', `/admin/jobs/${job}/run`, {
          form: { _csrf: crew.admin.csrf },
          base: `http://127.0.0.1:${inst.port}`,
        }),
      ),
    );
    const answers = await Promise.all(runs);
    if (answers.some((a) => a.status !== 303)) throw new Error(`Run now answered ${answers.map((a) => a.status)}`);
    await until(
      'the outbox to empty',
      90_000,
      async () => !(await db('outbox').where({ status: 'queued' }).first('id')),
    );
    await sleep(Math.min(CALM_MS, 5000));
  });

  stopping = true;
  await load;
  lag.stop();
  say(`load stopped; ${samples.length} requests in all`);

  writeFileSync(path.join(logDir, 'requests.jsonl'), samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
  writeFileSync(path.join(logDir, 'phases.json'), JSON.stringify(phases, null, 2));

  // ---- what was acknowledged against what is there ----
  const found = await findWrites(db, fixtures, acked);
  const reminders = await checkReminders(db, smtp, fixtures, jobsAt);
  const jobRuns = await db('job_runs')
    .whereIn('job', ['renew-subscriptions', 'renewal-reminders'])
    .where('started_at', '>=', jobsAt)
    .orderBy('started_at')
    .select('job', 'instance', 'trigger', 'outcome', 'counts');
  const replicaServed = await replicaTransactions(standby);

  // ---- tear down, instances first so that they finish cleanly ----
  const exits = await Promise.all(instances.map((i) => i.child?.stop('SIGTERM', 20_000)));
  await stopAll();
  await smtp.close();
  await db.destroy();
  await standby.stop();
  await primary.stop();

  return report({
    rates,
    samples,
    survived,
    acked,
    found,
    reminders,
    jobRuns,
    lag: lag.samples,
    catchUpMs,
    replicaServed,
    exits,
  });
}

// ---------------------------------------------------------------------------------------------------------------

type Fixtures = Awaited<ReturnType<typeof addFixtures>>;

/**
 * What the run needs beyond the demo: an API key, the assets people open, and a customer whose
 * subscriptions are due for the jobs: 20 renewing in 10 days (one reminder to each of its two
 * recipients) and 10 whose yearly term ended yesterday (renewed once).
 */
async function addFixtures(db: Db) {
  const run = Date.now().toString(36);
  const tenant = (await db('tenants').where({ name: 'Demo Telematics' }).first('id')) as { id: string };
  const northwind = (await db('customers')
    .where({ tenant_id: tenant.id, title: 'Northwind Logistics' })
    .first('id')) as {
    id: string;
  };
  const northwindAssets: { id: string; identifier: string }[] = await db('assets')
    .where({ customer_id: northwind.id })
    .orderBy('identifier')
    .select('id', 'identifier');
  const truckAssets: { id: string }[] = await db('assets')
    .where({ customer_id: northwind.id })
    .where((q) => q.where('group_path', 'Trucks').orWhere('group_path', 'like', 'Trucks / %'))
    .select('id');
  const apiKey = await makeApiKey(db, tenant.id, { name: 'Scale test' });

  const customer = await makeCustomer(db, tenant.id, { title: 'Scale Freight' });
  const group = await makeGroup(db, customer, { name: 'Long haul' });
  const admin = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
  const member = await makeUser(db, { tenantId: tenant.id, role: 'group_admin', customerId: customer.id });
  await db('membership_groups').insert({
    tenant_id: tenant.id,
    membership_id: member.membershipId,
    group_id: group.id,
  });
  const today = todayIn('UTC', new Date());
  const renewal = addDays(today, 10);
  const term = termFor('yearly', addDays(renewal, -365));
  const due: string[] = [];
  for (let i = 1; i <= 20; i++) {
    const a = await makeAsset(
      db,
      { group },
      {
        identifier: `SCALE-DUE-${String(i).padStart(3, '0')}`,
        plan: 'yearly',
        term_start: term.termStart,
        term_end: addDays(renewal, -1),
        next_renewal_on: renewal,
      },
    );
    due.push(a.id);
  }
  const lapsed: string[] = [];
  const yesterday = addDays(today, -1);
  const ended = termFor('yearly', addMonths(yesterday, -12)); // its next renewal was yesterday
  for (let i = 1; i <= 10; i++) {
    const a = await makeAsset(
      db,
      { group },
      {
        identifier: `SCALE-LAPSED-${String(i).padStart(3, '0')}`,
        plan: 'yearly',
        term_start: ended.termStart,
        term_end: ended.termEnd,
        next_renewal_on: ended.nextRenewalOn,
      },
    );
    lapsed.push(a.id);
  }
  return {
    run,
    tenantId: tenant.id,
    northwindId: northwind.id,
    northwindAssets,
    truckAssets,
    apiKey,
    recipients: [admin.email, member.email],
    due,
    lapsed,
    lapsedRenewsOn: termFor('yearly', yesterday).nextRenewalOn,
    // positions are an hour old, one second apart per batch, so no two batches share a time
    locationsFrom: Math.floor((Date.now() - 3600_000) / 1000) * 1000,
  };
}

async function allUp(balancer: Balancer, instances: Instance[]): Promise<void> {
  await until('HAProxy to see every instance up', 60_000, async () => {
    const states = await balancer.states().catch(() => ({}) as Record<string, string>);
    return instances.every((i) => states[i.name] === 'UP');
  });
}

type LagSample = { at: number; seconds: number | null };

/** The replica's replay lag as the primary sees it (pg_stat_replication), twice a second; null while it is away. */
function replicaLagSampler(primary: PgServer) {
  const samples: LagSample[] = [];
  const db = createDb(primary.url('portico'), { poolMax: 1 });
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const rows = await db
        .raw<{ rows: { lag: number | null }[] }>(
          `select extract(epoch from coalesce(replay_lag, '0'))::float8 as lag
             from pg_stat_replication where application_name = 'replica'`,
        )
        .then((r) => r.rows)
        .catch(() => null);
      if (rows) samples.push({ at, seconds: rows[0]?.lag ?? null });
      await sleep(500);
    }
    await db.destroy();
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function replicaTransactions(standby: PgServer): Promise<number> {
  const db = createDb(standby.url('portico'), { poolMax: 1 });
  try {
    const { rows } = await db.raw<{ rows: { n: number }[] }>(
      "select xact_commit + xact_rollback as n from pg_stat_database where datname = 'portico'",
    );
    return rows[0]?.n ?? 0;
  } finally {
    await db.destroy();
  }
}

type Acked = { tickets: string[]; comments: string[]; batches: { second: number; n: number }[] };

async function findWrites(db: Db, fixtures: Fixtures, acked: Acked) {
  const tickets = new Set<string>(await db('tickets').where('subject', 'like', 'scale-test ticket %').pluck('subject'));
  const comments = new Set<string>(
    await db('ticket_entries').where('body', 'like', `scale-test comment % ${fixtures.run}`).pluck('body'),
  );
  const { rows } = await db.raw<{ rows: { second: string; n: number }[] }>(
    `select (extract(epoch from date_trunc('second', recorded_at)) * 1000)::bigint::text as second, count(*)::int as n
       from asset_locations where tenant_id = ? and recorded_at >= ? group by 1`,
    [fixtures.tenantId, new Date(fixtures.locationsFrom)],
  );
  const batches = new Map(rows.map((r) => [Number(r.second), r.n]));
  return {
    tickets: { acked: acked.tickets.length, lost: acked.tickets.filter((t) => !tickets.has(t)).length },
    comments: {
      acked: acked.comments.length,
      found: comments.size,
      lost: acked.comments.filter((c) => !comments.has(c)).length,
    },
    batches: {
      acked: acked.batches.length,
      found: batches.size,
      records: acked.batches.reduce((n, b) => n + b.n, 0),
      lost: acked.batches.filter((b) => batches.get(b.second) !== b.n).length,
    },
  };
}

/** Reminder mails at the SMTP catcher, by recipient and asset; renewals of the lapsed terms, by asset. */
async function checkReminders(db: Db, smtp: SmtpCatcher, fixtures: Fixtures, since: Date) {
  const mails = smtp.messages.filter((m) => m.subject?.startsWith('Renewal reminder'));
  const mentions = new Map<string, number>(); // "recipient asset" → times
  for (const m of mails) {
    const to = (m.to as { text: string } | undefined)?.text ?? '';
    for (const [, id] of (m.text ?? '').matchAll(/\/assets\/([0-9a-f-]{36})\b/g))
      mentions.set(`${to} ${id}`, (mentions.get(`${to} ${id}`) ?? 0) + 1);
  }
  const perSubscription = fixtures.due.flatMap((id) =>
    fixtures.recipients.map((to) => mentions.get(`${to} ${id}`) ?? 0),
  );
  const recorded = await db('renewal_reminders_sent').where('sent_at', '>=', since).countDistinct({ n: 'user_id' });
  const renewed = await db('assets').whereIn('id', fixtures.lapsed).select('next_renewal_on', 'renewal_unconfirmed');
  const audits = await db('audit_log')
    .where({ action: 'asset.renewed_automatically' })
    .whereIn('entity_id', fixtures.lapsed)
    .count({ n: '*' });
  return {
    mails: mails.length,
    people: Number(recorded[0]!.n),
    perSubscription, // the fixture's 20 subscriptions × 2 recipients: each must be 1
    twiceAnywhere: [...mentions.values()].filter((n) => n > 1).length,
    renewedOnce: renewed.filter((r) => r.next_renewal_on === fixtures.lapsedRenewsOn && r.renewal_unconfirmed).length,
    renewalAudits: Number(audits[0]!.n),
    lapsed: fixtures.lapsed.length,
  };
}

// ---------------------------------------------------------------------------------------------------------------

type Results = {
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

function report(r: Results): number {
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
  console.log(`  tickets opened: ${f.tickets.acked} acknowledged, ${f.tickets.lost} lost`);
  console.log(
    `  ticket comments: ${f.comments.acked} acknowledged, ${f.comments.found} found, ${f.comments.lost} lost`,
  );
  console.log(
    `  location batches (API): ${f.batches.acked} acknowledged (${f.batches.records} records), ` +
      `${f.batches.found} found, ` +
      `${f.batches.lost} lost`,
  );
  const lost = f.tickets.lost + f.comments.lost + f.batches.lost;
  if (lost) failures.push(`${lost} acknowledged writes lost`);

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
    `  after being stopped ${OUTAGE_MS / 1000} s, caught up ${(r.catchUpMs / 1000).toFixed(1)} s after its start`,
  );
  const heavy = ['asset list', 'asset list CSV', 'staff asset list', 'partner usage log', 'call summaries'];
  const heavyOk = r.samples.filter((s) => heavy.includes(s.what) && s.status === 200).length;
  console.log(
    `  transactions on the replica's database: ${r.replicaServed}; heavy reads answered in the run: ${heavyOk}\n` +
      "  (those right after a person's own change come from the primary; each instance checks the lag once a second)",
  );
  console.log(`\ninstances stopped with exit codes ${r.exits.join(', ')}`);
  if (r.exits.some((c) => c !== 0)) failures.push('an instance did not stop cleanly');

  console.log(`\ntook ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (failures.length) {
    console.log(`\nFAILED:\n  ${failures.join('\n  ')}`);
    return 1;
  }
  console.log(
    '\nOK: no acknowledged write lost, every reminder once, no 5xx outside the fault windows, sessions survived',
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('scale-test failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
