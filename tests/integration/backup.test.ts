import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { createDb, ensureDatabase, migrate, type Db } from '../../src/db/index.js';
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

/** A page as its reader sees it (its text, without markup and tokens), signed in as `email`. */
async function page(db: Db, email: string, url: string): Promise<string> {
  const { agent } = await signedInAgent(testApp({ db }).app, email);
  const res = await agent.get(url);
  expect(res.status).toBe(200);
  return res.text.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
}

describe('backing up and restoring', () => {
  it('restores a backup of a running portal onto a new server, where the portal serves the same data', async () => {
    await ensureDatabase(old.url('postgres'), 'portico');
    const live = databases[0]!;
    await migrate(live);
    await seedDemo(live);

    // the steps of the README's "Back up and restore"
    const backup = path.join(mkdtempSync(path.join(os.tmpdir(), 'portico-backup-')), 'portico.dump');
    onTestFinished(() => rmSync(path.dirname(backup), { recursive: true }));
    execFileSync(bin('pg_dump'), ['--format=custom', '--file', backup, old.url('portico')]);
    const roles = 'create role portico_app nologin; grant portico_app to current_user;';
    execFileSync(bin('psql'), ['--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-c', roles, fresh.url('postgres')]);
    await ensureDatabase(fresh.url('postgres'), 'portico');
    execFileSync(bin('pg_restore'), ['--exit-on-error', '--no-owner', '--dbname', fresh.url('portico'), backup]);

    const restored = createDb(fresh.url('portico'));
    databases.push(restored);
    expect(await migrate(restored)).toEqual([]);
    const assets = await page(restored, 'owner@northwind.test', '/assets');
    expect(assets).toContain('Depot unit 001');
    expect(assets).toBe(await page(live, 'owner@northwind.test', '/assets'));
    const customers = await page(restored, 'admin@demo.test', '/admin/customers');
    expect(customers).toContain('Northwind Logistics');
    expect(customers).toBe(await page(live, 'admin@demo.test', '/admin/customers'));
    // row-level security came back with the tables: the other tenant's admin sees none of it
    expect(await page(restored, 'admin@other.test', '/admin/customers')).not.toContain('Northwind Logistics');
  });

  it('backs up the embedded server by copying its data directory while Portico is stopped', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'portico-embedded-'));
    const server = await startEmbeddedPostgres({ dir: path.join(dataDir, 'postgres'), fast: true });
    await ensureDatabase(server.url(), 'portico');
    const live = createDb(server.url('portico'));
    await migrate(live);
    await seedDemo(live);
    const before = await page(live, 'owner@northwind.test', '/assets');
    await live.destroy();
    await server.stop();

    // the README's steps: stop Portico, copy DATA_DIR/postgres with its owner and modes
    const copy = mkdtempSync(path.join(os.tmpdir(), 'portico-embedded-copy-'));
    execFileSync('cp', ['-a', path.join(dataDir, 'postgres'), copy]);
    rmSync(dataDir, { recursive: true });
    const restoredServer = await startEmbeddedPostgres({ dir: path.join(copy, 'postgres') });
    const restored = createDb(restoredServer.url('portico'));
    try {
      expect(await page(restored, 'owner@northwind.test', '/assets')).toBe(before);
    } finally {
      await restored.destroy();
      await restoredServer.stop();
      rmSync(copy, { recursive: true });
    }
  });
});
