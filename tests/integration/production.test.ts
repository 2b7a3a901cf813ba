import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { ensureDatabase } from '../../src/db/index.js';
import { testDatabase } from '../support/db.js';
import { makeApiKey, makeAsset, makeCustomer, makeTenant } from '../support/factories.js';
import { withDatabase } from '../support/global-setup.js';
import { startProcess, type Child } from '../support/process.js';

const root = path.resolve(import.meta.dirname, '../..');
const SESSION_SECRET = 'a-production-secret-that-is-long-enough';
// migrated from the TypeScript source, as every test database is, and not empty (so nothing seeds it)
const { db, url } = await testDatabase();
const tenant = await makeTenant(db);

type LockEntry = {
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

/**
 * The packages a production install has (`npm ci --omit=dev`), read from package-lock.json: the
 * dependencies of package.json and theirs, less tsx, which only `npm start` in development uses.
 * Returns the lock's keys (`node_modules/x`, `node_modules/x/node_modules/y`).
 */
function productionPackages(): Set<string> {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const found = new Set<string>();
  // Node's lookup: the package's own node_modules, then each enclosing one up to the root
  const locate = (from: string, name: string): string | null => {
    for (let at = from; ; at = at.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
      const key = `${at ? `${at}/` : ''}node_modules/${name}`;
      if (lock.packages[key]) return key;
      if (!at) return null;
    }
  };
  const visit = (from: string, names: string[]) => {
    for (const name of names) {
      const key = locate(from, name);
      if (!key || found.has(key)) continue;
      found.add(key);
      const e = lock.packages[key]!;
      visit(key, Object.keys({ ...e.dependencies, ...e.optionalDependencies, ...e.peerDependencies }));
    }
  };
  visit(
    '',
    Object.keys(pkg.dependencies).filter((name) => name !== 'tsx'),
  );
  return found;
}

/**
 * A directory laid out as a production host has it: the build, package.json, the start script and the
 * thread pool's preload it names, and a
 * node_modules of the production packages only (links into this checkout's, followed with
 * --preserve-symlinks so that no import can reach a package outside the set).
 */
function productionHost(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portico-prod-'));
  cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  cpSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  for (const script of ['scripts/start.mjs', 'scripts/threadpool.cjs'])
    cpSync(path.join(root, script), path.join(dir, script));
  const modules = realpathSync(path.join(root, 'node_modules'));
  for (const key of productionPackages()) {
    const name = key.slice('node_modules/'.length);
    if (name.includes('/node_modules/') || !existsSync(path.join(modules, name))) continue; // nested: inside its parent
    mkdirSync(path.dirname(path.join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(path.join(modules, name), path.join(dir, 'node_modules', name));
  }
  return dir;
}

let host = '';
beforeAll(() => {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe' });
  host = productionHost();
}, 420_000); // tsc over the whole source, while other test files share the two cores
afterAll(() => rmSync(host, { recursive: true, force: true }));

const hostEnv = (env: Record<string, string>) => ({
  NODE_ENV: 'production',
  NODE_OPTIONS: '--preserve-symlinks',
  DATA_DIR: mkdtempSync(path.join(host, 'data-')),
  LOG_LEVEL: 'info',
  JOBS: 'off',
  ...env,
});

async function serve(args: string[], env: Record<string, string>): Promise<{ app: Child; port: number }> {
  const port = await freePort();
  const app = startProcess(args[0]!, args.slice(1), { cwd: host, env: hostEnv({ PORT: String(port), ...env }) });
  await app.waitFor(/Portico is ready at/);
  return { app, port };
}

async function stop(app: Child) {
  app.signal('SIGTERM');
  expect(await app.exited, app.out()).toBe(0);
}

describe('the production build', () => {
  it('serves the portal with `node dist/main.js` from an empty database, with no devDependency or tsx', async () => {
    const adminUrl = inject('adminUrl');
    const database = `prod_${process.pid}`;
    await ensureDatabase(adminUrl, database);
    const { app, port } = await serve(['node', 'dist/main.js'], {
      DATABASE_URL: withDatabase(adminUrl, database),
      SESSION_SECRET,
    });
    try {
      const login = await fetch(`http://127.0.0.1:${port}/login`);
      expect(login.status).toBe(200);
      expect(await login.text()).toContain('Sign in');
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      // the stylesheet comes from the build's own copy of public/
      const page = await (await fetch(`http://127.0.0.1:${port}/login`)).text();
      const css = /href="(\/static\/[^"]+\.css[^"]*)"/.exec(page)?.[1];
      expect(css).toBeDefined();
      expect((await fetch(`http://127.0.0.1:${port}${css}`)).status).toBe(200);
    } finally {
      await stop(app);
    }
  }, 120_000);

  it('NODE_ENV=production npm start runs dist/, on a database migrated from the TypeScript source', async () => {
    const { app, port } = await serve(['npm', 'start'], { DATABASE_URL: url, SESSION_SECRET });
    try {
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      app.signal('SIGTERM');
      await app.exited;
    }
    expect(app.out()).toContain('shutting down');
  });

  it('refuses to start without SESSION_SECRET, naming it in one line', async () => {
    const app = startProcess('node', ['dist/main.js'], {
      cwd: host,
      env: hostEnv({ DATABASE_URL: inject('adminUrl') }),
    });
    expect(await app.exited).toBe(1);
    expect(app.out().trim()).toMatch(/^portico: SESSION_SECRET is required with NODE_ENV=production: [^\n]+$/);
  });
});

/** A POST of locations whose body the client holds back: in flight once the server has taken its headers. */
async function slowUpload(port: number, idempotencyKey: string) {
  const asset = await makeAsset(db, { customer: await makeCustomer(db, tenant.id) });
  const body = JSON.stringify({
    records: [{ identifier: asset.identifier, latitude: 51.5, longitude: -0.1, recorded_at: '2026-12-01T12:00:00Z' }],
  });
  const request = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/api/v1/locations',
    headers: {
      Authorization: `Bearer ${await makeApiKey(db, tenant.id)}`,
      'Idempotency-Key': idempotencyKey,
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      Expect: '100-continue',
    },
  });
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    request.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    request.on('error', reject);
  });
  // the server answers "100 Continue" once it has the request; then the client sends a little
  await new Promise((resolve) => request.once('continue', resolve));
  request.write(body.slice(0, 10));
  return { answer, finish: () => request.end(body.slice(10)) };
}

describe('SIGTERM', () => {
  it('lets the request in flight finish with 200, refuses new connections meanwhile, then exits 0', async () => {
    const { app, port } = await serve(['node', 'dist/main.js'], { DATABASE_URL: url, SESSION_SECRET, JOBS: 'on' });
    const upload = await slowUpload(port, 'drain-1');

    app.signal('SIGTERM');
    await app.waitFor(/shutting down/);
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('connect', () => resolve('connected'));
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    // refused, or reset if it reached the listening socket's queue in the instant before it closed
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain(refused);

    upload.finish();
    expect(await upload.answer).toEqual({ status: 200, text: JSON.stringify({ accepted: 1 }) });
    expect(await app.exited, app.out()).toBe(0);
    expect(Number((await db('asset_locations').count({ n: '*' }).first())!.n)).toBe(1);
  });

  it('gives up on a request that never ends after 25 s: cuts it and exits 1, saying so', async () => {
    const { app, port } = await serve(['node', 'dist/main.js'], { DATABASE_URL: url, SESSION_SECRET });
    const upload = await slowUpload(port, 'drain-stuck');
    const cut = upload.answer.then(
      () => 'answered',
      (err: Error) => err.message,
    );
    app.signal('SIGTERM');
    expect(await app.exited).toBe(1);
    expect(app.out()).toMatch(/"seconds":25,"msg":"stopped before everything in flight had finished"/);
    expect(await cut).toBe('socket hang up');
  }, 60_000);
});
