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

  it('has no read replica unless DATABASE_REPLICA_URL names one, and refuses one that is not PostgreSQL', () => {
    expect(loadConfig({ DATA_DIR: tmp() })).toMatchObject({ databaseReplicaUrl: undefined, databaseReplicaMaxLag: 5 });
    const url = 'postgres://portico:secret@replica.internal:5432/portico';
    const config = loadConfig({ DATA_DIR: tmp(), DATABASE_REPLICA_URL: url, DATABASE_REPLICA_MAX_LAG: '10' });
    expect(config).toMatchObject({ databaseReplicaUrl: url, databaseReplicaMaxLag: 10 });
    expect(() => loadConfig({ DATA_DIR: tmp(), DATABASE_REPLICA_URL: 'replica:5432' })).toThrow(
      /^Invalid DATABASE_REPLICA_URL=/,
    );
    expect(() => loadConfig({ DATA_DIR: tmp(), DATABASE_REPLICA_MAX_LAG: '0' })).toThrow(/DATABASE_REPLICA_MAX_LAG/);
  });

  it('turns on secure cookies when served over https', () => {
    const config = loadConfig({ DATA_DIR: tmp(), BASE_URL: 'https://portal.example.com/' });
    expect(config.secureCookies).toBe(true);
    expect(config.baseUrl).toBe('https://portal.example.com');
  });
});
