import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { freePort } from '../../src/db/embedded.js';
import { failStalledImportsJob } from '../../src/jobs/fail-stalled-imports.js';
import { runJob } from '../../src/jobs/scheduler.js';
import { IMPORT_STALLED_AFTER_MS, STALLED_IMPORT_MESSAGE } from '../../src/services/integration/csv-import.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/**
 * An import whose instance dies mid-way: a real app instance (its own process) writes a CSV
 * import; while it is stuck on its second batch (this test holds a lock its UPDATE waits for), the
 * process is killed with SIGKILL. Its transaction dies with it, so nothing is written; the import
 * must not stay "running" for ever: the recovery job marks it failed, and the import page says so.
 */
const root = path.resolve(import.meta.dirname, '../..');
const { db, url } = await testDatabase();
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** `npm start`'s command on a free port; resolves when the instance says it is ready. */
async function startInstance(): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    // vitest sets BASE_URL for Vite's own use; the app must not inherit it
    env: {
      ...process.env,
      BASE_URL: '',
      LOG_LEVEL: 'warn',
      DATABASE_URL: url,
      DATABASE_POOL_MAX: '4',
      PORT: String(port),
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'portico-instance-')),
      SESSION_SECRET: 'the-same-secret-on-every-instance-of-the-cluster',
      JOBS: 'off',
      SEED: 'off',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Portico is ready')) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`instance exited with ${code} before it was ready:\n${out}`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const tenant = await makeTenant(db, { name: 'Recovery Telematics' });
const customer = await makeCustomer(db, tenant.id, { title: 'Recovery Freight' });
const first = await makeAsset(db, { customer }, { identifier: '357100000000001' });
const second = await makeAsset(db, { customer }, { identifier: '357100000000002' });
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' }, { email: 'admin@recovery.test' });

// 1,000 positions of the first asset (the first batch), then 1,000 of the second
const lines = ['identifier,latitude,longitude,recorded_at'];
for (const [n, asset] of [first, second].entries())
  for (let i = 0; i < 1000; i++)
    lines.push(`${asset.identifier},51.5,-0.1,${new Date(Date.UTC(2026, 10, 1 + n) + i * 60_000).toISOString()}`);
const csv = `${lines.join('\n')}\n`;

const importRow = (id: string) =>
  db('data_imports')
    .where({ id })
    .first<{ status: string; written: number; message: string | null; heartbeat_at: Date | null }>(
      'status',
      'written',
      'message',
      'heartbeat_at',
    );
const locationCount = async () =>
  Number((await db('asset_locations').where({ tenant_id: tenant.id }).count({ n: '*' }).first())!.n);
const recoveryAt = (now: Date) => runJob(failStalledImportsJob, { db, clock: fixedClock(now), mail: null });

describe('an import whose instance is killed', () => {
  it('is marked failed by the recovery job, with the reason on its page, and nothing of it is written', async () => {
    const { child, base } = await startInstance();
    const agent = supertest.agent(base);
    const login = await agent.get('/login');
    const signedIn = await agent
      .post('/login')
      .type('form')
      .send({ email: admin.email, password: TEST_PASSWORD, _csrf: csrfFrom(login.text) });
    expect(signedIn.status).toBe(303);
    const csrf = csrfFrom((await agent.get('/admin/imports')).text);
    const uploaded = await agent
      .post(`/admin/imports?_csrf=${encodeURIComponent(csrf)}`)
      .field('kind', 'locations')
      .attach('file', Buffer.from(csv), 'positions.csv');
    expect(uploaded.status).toBe(303);
    const page = uploaded.headers.location!;
    const id = page.split('/').pop()!;
    expect((await agent.get(page)).text).toContain('All 2,000 rows passed the checks');

    // the second batch will wait for this lock on its asset's row
    const holder = await db.transaction();
    await holder('assets').where({ tenant_id: tenant.id, id: second.id }).forUpdate().first('id');
    try {
      expect((await agent.post(`${page}/run`).type('form').send({ _csrf: csrf })).status).toBe(303);
      const progressed = await until('the first batch', async () => {
        const row = await importRow(id);
        return row?.status === 'running' && row.written === 1000 ? row : undefined;
      });
      // a writer that is alive keeps saying so while its batch waits, and the job leaves it alone
      await until('a heartbeat while the batch waits', async () => {
        const row = await importRow(id);
        return row!.heartbeat_at!.getTime() > progressed.heartbeat_at!.getTime();
      });
      expect(await recoveryAt(new Date())).toEqual({ ran: true, count: 0 });
      expect((await importRow(id))!.status).toBe('running');

      child.kill('SIGKILL');
      await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
    } finally {
      await holder.rollback();
    }

    // its last heartbeat is now older than the limit: the job marks it failed, once
    const later = new Date(Date.now() + IMPORT_STALLED_AFTER_MS + 60_000);
    expect(await recoveryAt(later)).toEqual({ ran: true, count: 1 });
    expect(await recoveryAt(later)).toEqual({ ran: true, count: 0 });
    expect(await importRow(id)).toMatchObject({ status: 'failed', written: 0, message: STALLED_IMPORT_MESSAGE });
    expect(await locationCount()).toBe(0);
    const entry = await db('audit_log')
      .where({ tenant_id: tenant.id, entity_id: id, action: 'data_import.failed' })
      .first('actor_label');
    expect(entry).toEqual({ actor_label: 'Import recovery' });

    // the person who started it sees why on its page, from any other instance
    const { app } = testApp({ db });
    const { agent: here } = await signedInAgent(app, admin.email, TEST_PASSWORD);
    const shown = (await here.get(page)).text;
    expect(shown).toContain('The import failed: nothing was written');
    expect(shown).toContain(STALLED_IMPORT_MESSAGE);
    expect(shown).not.toContain('hx-trigger');
  }, 180_000);
});
