import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, ensureDatabase, migrate } from '../../src/db/index.js';
import { seedDemo } from '../../src/demo/data.js';
import { signedInAgent, testApp } from '../support/app.js';
import { debianPostgres, startDebianCluster } from '../support/debian-postgres.js';

const { bin } = debianPostgres();
const old = await startDebianCluster();
const fresh = await startDebianCluster();
const databases = [createDb(old.url('portico'))];
afterAll(async () => {
  await Promise.all(databases.map((db) => db.destroy()));
  old.stop();
  fresh.stop();
});

describe('backing up with pg_dump and restoring with pg_restore', () => {
  it('restores a backup of a running portal onto a new server, where the portal serves the same data', async () => {
    await ensureDatabase(old.url('postgres'), 'portico');
    const live = databases[0]!;
    await migrate(live);
    await seedDemo(live);

    // the steps of the README's "Back up and restore"
    const backup = path.join(mkdtempSync(path.join(os.tmpdir(), 'portico-backup-')), 'portico.dump');
    execFileSync(bin('pg_dump'), ['--format=custom', '--file', backup, old.url('portico')]);
    const roles = 'create role portico_app nologin; grant portico_app to current_user;';
    execFileSync(bin('psql'), ['--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-c', roles, fresh.url('postgres')]);
    await ensureDatabase(fresh.url('postgres'), 'portico');
    execFileSync(bin('pg_restore'), ['--exit-on-error', '--no-owner', '--dbname', fresh.url('portico'), backup]);

    const restored = createDb(fresh.url('portico'));
    databases.push(restored);
    expect(await migrate(restored)).toEqual([]);
    // the same pages, read from the live database and from the restored one
    const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    const page = async (db: typeof live, email: string, url: string) => {
      const { agent } = await signedInAgent(testApp({ db }).app, email);
      const res = await agent.get(url);
      expect(res.status).toBe(200);
      return text(res.text);
    };
    const assets = await page(restored, 'owner@northwind.test', '/assets');
    expect(assets).toContain('Depot unit 001');
    expect(assets).toBe(await page(live, 'owner@northwind.test', '/assets'));
    const customers = await page(restored, 'admin@demo.test', '/admin/customers');
    expect(customers).toContain('Northwind Logistics');
    expect(customers).toBe(await page(live, 'admin@demo.test', '/admin/customers'));
    // row-level security came back with the tables: the other tenant's admin sees none of it
    expect(await page(restored, 'admin@other.test', '/admin/customers')).not.toContain('Northwind Logistics');
  });
});
