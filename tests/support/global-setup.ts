import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/db/embedded.js';
import { createDb, ensureDatabase, migrate } from '../../src/db/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDb: string;
  }
}

let server: EmbeddedServer | null = null;
let dataDir: string | null = null;

/** One PostgreSQL per run and one migrated template; every test file clones its own database from it. */
export async function setup(project: TestProject) {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'portico-test-'));
    server = await startEmbeddedPostgres({ dir: path.join(dataDir, 'pg'), fast: true });
    adminUrl = server.url();
  }
  const templateDb = `portico_template_${process.pid}`;
  const admin = createDb(adminUrl, { poolMax: 1 });
  await admin.raw(`drop database if exists ${templateDb}`);
  await admin.destroy();
  await ensureDatabase(adminUrl, templateDb);
  const template = createDb(withDatabase(adminUrl, templateDb), { poolMax: 1 });
  await migrate(template);
  await template.destroy();
  project.provide('adminUrl', adminUrl);
  project.provide('templateDb', templateDb);
}

export async function teardown() {
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
