import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { createDb, ensureDatabase } from '../../src/db/index.js';
import { withDatabase } from '../support/global-setup.js';
import { runScript, startServer } from '../support/processes.js';

/** Demo data only where asked: never with NODE_ENV=production. */

const adminUrl = inject('adminUrl');
const SESSION_SECRET = randomBytes(32).toString('base64url');

/** An empty database of its own (not migrated), dropped after the file. */
async function emptyDatabase(): Promise<string> {
  const name = `prod_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(adminUrl, name);
  afterAll(async () => {
    const admin = createDb(adminUrl, { poolMax: 1 });
    await admin.raw(`drop database if exists ${name} with (force)`);
    await admin.destroy();
  });
  return withDatabase(adminUrl, name);
}

const tmpDir = () => mkdtempSync(path.join(os.tmpdir(), 'portico-prod-'));

describe('starting with NODE_ENV=production', () => {
  it('seeds nothing on an empty database, prints no demo login, and serves the sign-in page', async () => {
    const url = await emptyDatabase();
    const port = await freePort();
    const server = await startServer(
      {
        NODE_ENV: 'production',
        DATABASE_URL: url,
        DATA_DIR: tmpDir(),
        PORT: String(port),
        JOBS: 'off',
        SESSION_SECRET,
      },
      /Portico is ready at/,
    );
    try {
      const login = await fetch(`http://127.0.0.1:${port}/login`);
      expect(login.status).toBe(200);
      expect(await login.text()).toContain('Sign in');
      const db = createDb(url, { poolMax: 1 });
      try {
        expect(await db('users').pluck('email')).toEqual([]);
        expect(await db('tenants').pluck('name')).toEqual([]);
      } finally {
        await db.destroy();
      }
      expect(server.out()).not.toContain('Demo logins');
      expect(server.out()).not.toContain('portico-demo');
    } finally {
      const stopped = await server.stop();
      expect(stopped.code, stopped.out).toBe(0);
    }
  });

  it('refuses SEED=demo with one line saying why, before touching any database', async () => {
    const dataDir = tmpDir();
    const { code, stdout, stderr } = await runScript('src/main.ts', [], {
      NODE_ENV: 'production',
      SEED: 'demo',
      DATA_DIR: dataDir,
      SESSION_SECRET,
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      'portico: SEED=demo is refused with NODE_ENV=production: the demo logins share a published password.' +
        ' Create the first tenant with `npx portico tenant create` instead.',
    ]);
    expect(existsSync(path.join(dataDir, 'postgres'))).toBe(false);
  });

  it('refuses `npm run seed` with one line, and the database stays empty', async () => {
    const url = await emptyDatabase();
    const { code, stderr } = await runScript('src/demo/seed.ts', [], {
      NODE_ENV: 'production',
      DATABASE_URL: url,
      DATA_DIR: tmpDir(),
      SESSION_SECRET,
    });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      'portico: npm run seed is refused with NODE_ENV=production: the demo logins share a published password.',
    ]);
    const db = createDb(url, { poolMax: 1 });
    try {
      const { rows } = await db.raw<{ rows: { t: string | null }[] }>("select to_regclass('tenants')::text as t");
      expect(rows[0]!.t).toBeNull();
    } finally {
      await db.destroy();
    }
  });
});
