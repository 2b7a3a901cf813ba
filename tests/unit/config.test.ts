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

  it('refuses to start in production without SESSION_SECRET, naming it in one line', () => {
    const start = () => loadConfig({ DATA_DIR: tmp(), NODE_ENV: 'production' });
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(/^SESSION_SECRET is required with NODE_ENV=production: [^\n]+$/);
    const secret = 'a-production-secret-of-at-least-32-chars';
    expect(loadConfig({ DATA_DIR: tmp(), NODE_ENV: 'production', SESSION_SECRET: secret }).sessionSecret).toBe(secret);
  });

  it("takes TRUST_PROXY in Express's forms: false, a hop count, or proxy addresses and subnets", () => {
    const trust = (value?: string) =>
      loadConfig({ DATA_DIR: tmp(), ...(value ? { TRUST_PROXY: value } : {}) }).trustProxy;
    expect(trust()).toBe(false);
    expect(trust('false')).toBe(false);
    expect(trust('1')).toBe(1);
    expect(trust('loopback')).toEqual(['loopback']);
    expect(trust('loopback, 10.0.0.0/8,fd00::/8, 192.168.1.7')).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
      '192.168.1.7',
    ]);
  });

  it('refuses TRUST_PROXY=true in one line saying why, and anything that is not an address', () => {
    const trust = (value: string) => () => loadConfig({ DATA_DIR: tmp(), TRUST_PROXY: value });
    expect(trust('true')).toThrow(
      /^Invalid TRUST_PROXY="true": trusting every proxy lets any client pick its own address/,
    );
    expect(trust('true')).toThrow(/^[^\n]+$/);
    expect(trust('10.0.0.0/33')).toThrow(/^Invalid TRUST_PROXY="10.0.0.0\/33": "10.0.0.0\/33" is not a proxy address/);
    expect(trust('loopback,nginx')).toThrow(/"nginx" is not a proxy address/);
  });

  it('seeds the demo outside production only, and refuses SEED=demo in production with one line', () => {
    expect(loadConfig({ DATA_DIR: tmp() }).seed).toBe(true);
    expect(loadConfig({ DATA_DIR: tmp(), SEED: 'off' }).seed).toBe(false);
    const secret = 'a-production-secret-of-at-least-32-chars';
    expect(loadConfig({ DATA_DIR: tmp(), NODE_ENV: 'production', SESSION_SECRET: secret }).seed).toBe(false);
    expect(() => loadConfig({ DATA_DIR: tmp(), NODE_ENV: 'production', SEED: 'demo' })).toThrow(
      /^SEED=demo is refused with NODE_ENV=production: the demo logins share a published password\. [^\n]+$/,
    );
  });
});
