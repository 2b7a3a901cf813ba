import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { listRoutes } from '../support/routes.js';

const { db } = await testDatabase();
const { app } = testApp({ db });

/** `/invoices/{id}` in OpenAPI is `/invoices/:id` in Express. */
const expressPath = (p: string) => p.replace(/\{(\w+)\}/g, ':$1');

describe('/api/v1/openapi.json', () => {
  it('describes exactly the API routes the app answers, method by method', async () => {
    const res = await supertest(app).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([p, item]) =>
      Object.keys(item)
        .filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
        .map((m) => `${m.toUpperCase()} /api/v1${expressPath(p)}`),
    );
    const served = listRoutes(app).filter(
      (r) => r.split(' ')[1]!.startsWith('/api/v1/') && r !== 'GET /api/v1/openapi.json',
    );
    expect(served.length).toBeGreaterThan(0);
    expect(documented.sort()).toEqual(served.sort());
  });

  it('resolves every $ref in the document', async () => {
    const doc = (await supertest(app).get('/api/v1/openapi.json')).body;
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1]!);
    const missing = refs.filter(
      (ref) =>
        ref.split('/').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], doc) ===
        undefined,
    );
    expect(missing).toEqual([]);
  });

  it('documents authentication, 401 and 429 on every operation', async () => {
    const doc = (await supertest(app).get('/api/v1/openapi.json')).body;
    for (const item of Object.values(
      doc.paths as Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>,
    )) {
      for (const op of Object.values(item)) {
        expect(op.security).toEqual([{ apiKey: [] }]);
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '429']));
      }
    }
  });
});
