import { gzipSync } from 'node:zlib';
import supertest from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeApiKey } from '../support/factories.js';
import { deref, type Doc, type Schema } from '../support/openapi.js';

/**
 * The hostile-input corpus over every API operation (issue 17): each field of each kind of record,
 * each query parameter and header, and the body as a whole, sent hostile values one at a time (NUL,
 * unpaired surrogates, over-long text, wrong types, deep nesting, huge arrays, bodies that are not
 * JSON or too large or in another charset or encoding). Nothing answers 5xx, every answer is JSON
 * and one the document lists for the operation, and whatever is refused writes nothing.
 */

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db, env: { API_RATE_LIMIT: '1000000' } });
const api = supertest(app);
const tenantId = demoId('tenant:demo');
const key = await makeApiKey(db, tenantId, { name: 'Corpus' });
const doc = (await api.get('/api/v1/openapi.json')).body as Doc;

const asset = (await db('assets').where({ tenant_id: tenantId }).first('identifier')) as { identifier: string };
const site = (await db('sites').where({ tenant_id: tenantId }).first('id')) as { id: string };
/** A record of each kind that would be accepted, so that the hostile value is the only thing wrong. */
const GOOD: Record<string, Record<string, unknown>> = {
  '/locations': { identifier: asset.identifier, latitude: 53.4, longitude: -2.2, recorded_at: '2026-11-20T10:00:00Z' },
  '/usage-records': {
    identifier: asset.identifier,
    product: 'sms',
    occurred_at: '2026-11-20T10:00:00Z',
    direction: 'outbound',
    status: 'delivered',
    from_number: '+447700900001',
    to_number: '+447700900002',
    content: 'corpus',
  },
  '/service-visits': {
    site_id: site.id,
    vehicle: 'CORPUS 1',
    started_at: '2026-11-20T08:00:00Z',
    ended_at: '2026-11-20T09:00:00Z',
  },
};

const nested = (depth: number): unknown => {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
};
/** What goes into one field of a record. */
const FIELD_VALUES: [string, unknown][] = [
  ['a NUL', 'corpus\u0000text'],
  ['an unpaired surrogate', 'corpus\udc00'],
  ['a lone NUL', '\u0000'],
  ['100,000 characters', 'x'.repeat(100_000)],
  ['a huge number', 1e308],
  ['a negative number', -1],
  ['true', true],
  ['null', null],
  ['an object', { text: 'corpus\u0000' }],
  ['an array', ['corpus', 1]],
  ['JSON nested 1,000 deep', nested(1000)],
];

const written = async () =>
  (
    await db.raw(
      `select (select count(*) from usage_records)::int + (select count(*) from asset_locations)::int
            + (select count(*) from service_visits)::int + (select count(*) from idempotency_keys)::int as n`,
    )
  ).rows[0].n as number;

let sequence = 0;
const problems: string[] = [];

/** Sends one request and notes every way its answer breaks the rules above. */
async function expectAnswered(what: string, path: string, method: string, send: (r: supertest.Test) => supertest.Test) {
  const before = await written();
  const res = await send(
    (method === 'get' ? api.get(`/api/v1${path}`) : api.post(`/api/v1${path}`)).set('Authorization', `Bearer ${key}`),
  );
  const documented = Object.keys(doc.paths[path]![method]!.responses);
  if (res.status >= 500) problems.push(`${what}: ${res.status} ${res.text.slice(0, 200)}`);
  if (!documented.includes(String(res.status))) problems.push(`${what}: ${res.status} is not a documented answer`);
  if (!res.type.includes('json')) problems.push(`${what}: answered ${res.type}`);
  if (res.status >= 400 && (await written()) !== before) problems.push(`${what}: refused with ${res.status} but wrote`);
  return res;
}
const write = (path: string, what: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  expectAnswered(what, path, 'post', (r) =>
    r.set({ 'Idempotency-Key': `corpus-${++sequence}`, 'Content-Type': 'application/json', ...headers }).send(body),
  );

describe('the hostile-input corpus over every API operation', () => {
  beforeEach(() => {
    problems.length = 0;
  });
  const writes = Object.keys(doc.paths).filter((p) => doc.paths[p]!.post);
  const reads = Object.keys(doc.paths).filter((p) => doc.paths[p]!.get);

  it('covers every operation of the document', () => {
    expect([...writes, ...reads].sort()).toEqual([
      '/invoices',
      '/key',
      '/locations',
      '/service-visits',
      '/usage-records',
    ]);
    for (const path of writes) expect(GOOD[path], path).toBeDefined();
  });

  it('refuses hostile values in every field of every kind of record, and writes nothing', async () => {
    for (const path of writes) {
      const body = deref(doc, doc.paths[path]!.post!.requestBody!.content['application/json']!.schema);
      const record = deref(doc, body.properties!.records!.items as Schema);
      for (const field of Object.keys(record.properties!))
        for (const [label, value] of FIELD_VALUES) {
          const records = [GOOD[path], { ...GOOD[path], [field]: value }, GOOD[path]];
          const res = await write(path, `${path} with ${label} in ${field}`, JSON.stringify({ records }));
          // a hostile value either is refused or (a huge price, a null where none is needed) stands as sent
          if (res.status === 422) expect(res.body.errors.length).toBeGreaterThan(0);
        }
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('refuses hostile bodies, headers and encodings as a whole', async () => {
    const deep = '['.repeat(300_000) + ']'.repeat(300_000);
    for (const path of writes) {
      const good = GOOD[path]!;
      const cases: [string, string | Buffer, Record<string, string>?][] = [
        ['JSON nested 300,000 deep', deep],
        ['records nested 100,000 deep', `{"records": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
        ['10,001 records', JSON.stringify({ records: Array.from({ length: 10_001 }, () => good) })],
        [
          '10,000 records, the last with a NUL',
          JSON.stringify({
            records: [
              ...Array.from({ length: 9_999 }, () => good),
              { ...good, vehicle: '\u0000', identifier: '\u0000' },
            ],
          }),
        ],
        ['records that are not objects', JSON.stringify({ records: [1, 'two', null, [], true] })],
        ['no records', JSON.stringify({ rows: [good] })],
        ['a body that is an array', JSON.stringify([good])],
        ['a body that is null', 'null'],
        ['a body that is not JSON', '{"records": [ {'],
        ['an empty body', ''],
        ['a body past 8 MB', JSON.stringify({ records: [{ ...good, content: 'x'.repeat(9_000_000) }] })],
        [
          'a body in Latin-1',
          JSON.stringify({ records: [good] }),
          { 'Content-Type': 'application/json; charset=latin1' },
        ],
        ['a body in an unknown encoding', JSON.stringify({ records: [good] }), { 'Content-Encoding': 'zstd' }],
        ['a gzip body that is not gzip', 'not gzip at all', { 'Content-Encoding': 'gzip' }],
        ['a gzip bomb', gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)), { 'Content-Encoding': 'gzip' }],
        [
          'an Idempotency-Key of 201 characters',
          JSON.stringify({ records: [good] }),
          { 'Idempotency-Key': 'k'.repeat(201) },
        ],
        ['an Idempotency-Key with spaces', JSON.stringify({ records: [good] }), { 'Idempotency-Key': 'two words' }],
        ['an empty Idempotency-Key', JSON.stringify({ records: [good] }), { 'Idempotency-Key': '' }],
      ];
      for (const [label, body, headers] of cases) await write(path, `${path} with ${label}`, body, headers);
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('answers hostile query strings on every read without a 5xx', async () => {
    const values = ['corpus\u0000', '\u0000', 'x'.repeat(6000), '-1', '1e309', '', '%', '[]', '{"a":1}'];
    for (const path of reads) {
      const names = [...(doc.paths[path]!.get!.parameters ?? []).map((p) => p.name), 'unknown'];
      for (const name of names)
        for (const value of values) {
          const q = `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
          await expectAnswered(`GET ${path} with ${JSON.stringify(value.slice(0, 12))} in ${name}`, path, 'get', (r) =>
            r.query(q),
          );
          await expectAnswered(`GET ${path} with ${name} twice`, path, 'get', (r) => r.query(`${q}&${q}`));
        }
      await expectAnswered(`GET ${path} with a body`, path, 'get', (r) =>
        r.set('Content-Type', 'application/json').send('{"not": "read'),
      );
    }
    expect(problems).toEqual([]);
  }, 60_000);
});
