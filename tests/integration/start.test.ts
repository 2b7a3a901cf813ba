import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { ensureDatabase } from '../../src/db/index.js';
import { withDatabase } from '../support/global-setup.js';

const root = path.resolve(import.meta.dirname, '../..');

/** Runs `npm start`'s command with env; resolves when `until` appears in the output or the process ends. */
function start(env: Record<string, string>, until?: RegExp) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    // vitest sets BASE_URL for Vite's own use; the app must not inherit it
    env: { ...process.env, BASE_URL: '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise<{ out: string; code: number | null; stop: () => Promise<{ code: number | null; out: string }> }>(
    (resolve) => {
      const stop = () =>
        new Promise<{ code: number | null; out: string }>((r) => {
          if (child.exitCode !== null) return r({ code: child.exitCode, out });
          child.once('exit', (code) => r({ code, out }));
          child.kill('SIGINT');
        });
      const onData = (d: Buffer) => {
        out += d.toString();
        if (until?.test(out)) resolve({ out, code: null, stop });
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => resolve({ out, code, stop }));
    },
  );
}

describe('npm start', () => {
  it('stops at once with one clear line when PORT is not a port', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'portico-start-'));
    const { out, code } = await start({ PORT: 'abc', DATA_DIR: dataDir });
    expect(code).toBe(1);
    expect(out.trim()).toMatch(/^portico: Invalid PORT="abc": /);
    expect(existsSync(path.join(dataDir, 'postgres'))).toBe(false);
  });

  it('uses DATABASE_URL when set and starts no PostgreSQL of its own', async () => {
    const adminUrl = inject('adminUrl');
    await ensureDatabase(adminUrl, 'start_test_external');
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'portico-start-'));
    const port = await freePort();
    const app = await start(
      {
        DATABASE_URL: withDatabase(adminUrl, 'start_test_external'),
        DATA_DIR: dataDir,
        PORT: String(port),
        JOBS: 'off',
      },
      /Demo logins[\s\S]*admin@other\.test[\s\S]*\/link\/\S+\n/,
    );
    try {
      expect(app.out).toContain(`Portico is ready at http://localhost:${port}`);
      expect(app.out).not.toContain('embedded PostgreSQL');
      expect(existsSync(path.join(dataDir, 'postgres'))).toBe(false);
      const login = await fetch(`http://127.0.0.1:${port}/login`);
      expect(login.status).toBe(200);
      expect(await login.text()).toContain('Sign in');
      // the demo site viewer's login link, printed at start, opens their site map
      const link = /Login link of sites@northwind\.test[^\n]*\n\s+http:\/\/localhost:\d+(\/link\/\S+)/.exec(
        app.out,
      )?.[1];
      expect(link, app.out).toBeDefined();
      const opened = await fetch(`http://127.0.0.1:${port}${link}`, { redirect: 'manual' });
      expect(opened.status).toBe(303);
      expect(opened.headers.get('location')).toBe('/sites');
    } finally {
      const stopped = await app.stop();
      expect(stopped.code, stopped.out).toBe(0);
    }
  });
});
