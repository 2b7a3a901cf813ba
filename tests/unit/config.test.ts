import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'portico-config-'));

describe('configuration', () => {
  it('needs nothing configured: port 3000, embedded database, data in DATA_DIR', () => {
    const dir = tmp();
    const config = loadConfig({ DATA_DIR: dir });
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.baseUrl).toBe('http://localhost:3000');
    expect(config.secureCookies).toBe(false);
  });

  it('generates a session secret once and keeps it in DATA_DIR', () => {
    const dir = tmp();
    const first = loadConfig({ DATA_DIR: dir }).sessionSecret;
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(path.join(dir, 'session-secret'), 'utf8').trim()).toBe(first);
    expect(loadConfig({ DATA_DIR: dir }).sessionSecret).toBe(first);
  });

  it('refuses a bad PORT with one line that names the variable', () => {
    expect(() => loadConfig({ DATA_DIR: tmp(), PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR: tmp(), PORT: '70000' })).toThrow(/^Invalid PORT="70000"/);
  });

  it('refuses a DATABASE_URL that is not a PostgreSQL URL', () => {
    expect(() => loadConfig({ DATA_DIR: tmp(), DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
  });

  it('turns on secure cookies when served over https', () => {
    const config = loadConfig({ DATA_DIR: tmp(), BASE_URL: 'https://portal.example.com/' });
    expect(config.secureCookies).toBe(true);
    expect(config.baseUrl).toBe('https://portal.example.com');
  });

  it('seeds the demo outside production only, and refuses SEED=demo in production with one line', () => {
    expect(loadConfig({ DATA_DIR: tmp() }).seed).toBe(true);
    expect(loadConfig({ DATA_DIR: tmp(), SEED: 'off' }).seed).toBe(false);
    expect(loadConfig({ DATA_DIR: tmp(), NODE_ENV: 'production' }).seed).toBe(false);
    expect(() => loadConfig({ DATA_DIR: tmp(), NODE_ENV: 'production', SEED: 'demo' })).toThrow(
      /^SEED=demo is refused with NODE_ENV=production: the demo logins share a published password\. [^\n]+$/,
    );
  });
});
