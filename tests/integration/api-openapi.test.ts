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

  it('documents authentication, the scope each operation needs, and every answer the framework gives', async () => {
    const doc = (await supertest(app).get('/api/v1/openapi.json')).body;
    const scopes: Record<string, string[]> = {};
    for (const [path, item] of Object.entries(
      doc.paths as Record<string, Record<string, Record<string, unknown> & { responses: Record<string, unknown> }>>,
    )) {
      for (const [method, op] of Object.entries(item)) {
        const needs = op['x-scopes'] as string[];
        scopes[`${method.toUpperCase()} ${path}`] = needs;
        expect(op.security).toEqual([{ apiKey: needs }]);
        const answers = Object.keys(op.responses);
        expect(answers).toEqual(expect.arrayContaining(['401', '429', '503']));
        if (needs.length) expect(answers).toContain('403');
        if (op.requestBody) expect(answers).toEqual(expect.arrayContaining(['400', '413', '415']));
      }
    }
    expect(scopes).toEqual({
      'GET /key': [],
      'GET /invoices': ['invoices:read'],
      'POST /locations': ['locations:write'],
      'POST /usage-records': ['usage:write'],
      'POST /service-visits': ['visits:write'],
    });
  });
});
