import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { createDb, ensureDatabase, migrate } from '../../src/db/index.js';
import { seedDemo } from '../../src/demo/data.js';
import { signedInAgent, testApp } from '../support/app.js';

// This file runs its own PostgreSQL, so it can stop and start it under a running app.
const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'portico-restart-')), 'pg');
let server = await startEmbeddedPostgres({ dir, fast: true });
const port = Number(new URL(server.url()).port);
await ensureDatabase(server.url(), 'portico');
const db = createDb(server.url('portico'));
await migrate(db);
await seedDemo(db);
const { app } = testApp({ db });
afterAll(async () => {
  await db.destroy();
  await server.stop();
});

describe('when PostgreSQL restarts under a running app', () => {
  it('answers 503 while it is down and serves again once it is back, without an app restart', async () => {
    const { agent } = await signedInAgent(app, 'owner@northwind.test');
    expect((await agent.get('/')).status).toBe(200);

    await server.stop();
    const ready = await supertest(app).get('/readyz');
    expect(ready.status).toBe(503);
    const page = await agent.get('/');
    expect(page.status).toBe(503);
    expect(page.headers['retry-after']).toBe('5');
    expect(page.text).toContain('Temporarily unavailable');
    expect((await supertest(app).get('/healthz')).status).toBe(200);

    server = await startEmbeddedPostgres({ dir, port, fast: true });
    expect((await supertest(app).get('/readyz')).status).toBe(200);
    const again = await agent.get('/');
    expect(again.status).toBe(200);
    expect(again.text).toContain('Northwind Logistics');
  });
});
