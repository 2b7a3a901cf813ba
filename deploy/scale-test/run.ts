import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded.js';
import { createDb, ensureDatabase, migrate } from '../../src/db/index.js';
import { seedDemo } from '../../src/demo/data.js';
import { startSmtpCatcher } from '../../tests/support/smtp.js';
import { caughtUp, startPrimary, startStandby, type PgServer } from '../../tests/support/streaming-replica.js';
import {
  addFixtures,
  checkReminders,
  findWrites,
  replicaLagSampler,
  replicaTransactions,
  SCALE_LATITUDE,
  type Acked,
} from './checks.js';
import { killAll, stopAll } from './children.js';
import {
  drive,
  orSignInAgain,
  Person,
  throughput,
  type Action,
  type Answer,
  type Sample,
  type Throughput,
} from './load.js';
import { loadAverage, report, type Phase } from './report.js';
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
  const person = (name: string, email: string, home?: string) =>
    new Person(base, name, email, 'portico-demo', samples, home);
  const crew = {
    owner1: person('company admin 1', 'owner@northwind.test'),
    owner2: person('company admin 2', 'owner@northwind.test'),
    fleet: person('group admin', 'fleet@northwind.test'),
    viewer: person('group supervisor', 'viewer@northwind.test'),
    partner: person('partner viewer', 'partner@bluewave.test'),
    admin: person('tenant admin', 'admin@demo.test'),
    support: person('support agent', 'support@demo.test'),
    operator: person('deployment operator', 'operator@demo.test', '/operator/tenants'),
  };
  const people = Object.values(crew);
  for (const p of people) await p.signIn();
  const acked: Acked = { tickets: [], comments: [], batches: [] };
  const ack = (what: string, res: Answer) => ({ what, at: Date.now(), by: res.by });
  const tickets: string[] = [];
  for (const owner of [crew.owner1, crew.owner2]) {
    const subject = `scale-test ticket ${tickets.length + 1}`;
    const form = { asset_id: '', subject, category: 'other', message: 'Opened by the scale test.', _csrf: owner.csrf };
    const res = await owner.request('open ticket', 'POST', '/tickets', { form });
    if (res.status !== 303 || !res.location) throw new Error(`opening a ticket answered ${res.status}`);
    tickets.push(res.location.split('/').pop()!);
    acked.tickets.push(ack(subject, res));
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
    if (res.status === 303 && !res.location?.startsWith('/login')) acked.comments.push(ack(body, res));
    await orSignInAgain(p, res);
  };
  const apiClient = new Person(base, 'API client', '', '', samples);
  const postBatch: Action = async () => {
    const batch = ++serial.batch;
    const second = fixtures.locationsFrom + batch * 1000;
    const records = northwind.slice(0, 200).map((a, i) => ({
      identifier: a.identifier,
      latitude: SCALE_LATITUDE - i / 1000,
      longitude: 4 + (batch % 1000) / 1000,
      // 1 to 200 ms past the second: never on a whole second, where the demo's hourly track lies (the same
      // asset at the same moment is the same position, kept once; a whole hour in the run lost one record)
      recorded_at: new Date(second + 1 + i).toISOString(),
    }));
    const res = await apiClient.request('ingest', 'POST', '/api/v1/locations', {
      json: { records },
      headers: { authorization: `Bearer ${fixtures.apiKey}`, 'idempotency-key': `scale-${fixtures.run}-${batch}` },
    });
    if (res.status === 200) acked.batches.push({ ...ack(`batch ${batch}`, res), second, n: records.length });
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
        crew.operator.request('run job', 'POST', `/operator/jobs/${job}/run`, {
          form: { _csrf: crew.operator.csrf },
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

  const run = { phases, startedAt: started, outageMs: OUTAGE_MS };
  return report(
    {
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
    },
    run,
  );
}

async function allUp(balancer: Balancer, instances: Instance[]): Promise<void> {
  await until('HAProxy to see every instance up', 60_000, async () => {
    const gone = instances.find((i) => !i.child?.running());
    if (gone) throw new Error(`${gone.name} exited:\n${gone.child?.tail()}`);
    const states = await balancer.states().catch(() => ({}) as Record<string, string>);
    return instances.every((i) => states[i.name] === 'UP');
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('scale-test failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
