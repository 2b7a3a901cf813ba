import fc from 'fast-check';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { encodeInvoiceCursor } from '../../src/services/billing/invoice-api.js';
import { testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeApiKey } from '../support/factories.js';
import {
  check,
  deref,
  type Doc,
  invalidValue,
  type Operation,
  type Schema,
  unstorableText,
  validValue,
} from '../support/openapi.js';

/**
 * A property-based run driven by /api/v1/openapi.json itself (issue 17): for every operation,
 * fast-check builds requests from the document's own schemas (query parameters, headers, bodies),
 * valid ones and ones broken in a single place, and every answer must be one the document lists
 * for that operation, with a body of the shape it gives, never a 5xx. A valid request is accepted
 * (or refused only for a rule the document states in words: a record naming nothing of yours, a
 * visit ending before it starts); a broken one is refused and writes nothing.
 */

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db, env: { API_RATE_LIMIT: '1000000' } });
const api = supertest(app);
const tenantId = demoId('tenant:demo');
const SCOPES = ['locations:write', 'usage:write', 'visits:write', 'invoices:read'];
const key = await makeApiKey(db, tenantId, { name: 'Property run' });
/** for each scope, a key that has every other one */
const keyWithout = Object.fromEntries(
  await Promise.all(
    SCOPES.map(async (s) => [s, await makeApiKey(db, tenantId, { scopes: SCOPES.filter((x) => x !== s) })] as const),
  ),
);
const doc = (await api.get('/api/v1/openapi.json')).body as Doc;

// values that name the tenant's own records, mixed into what the schemas generate
const pick = async (table: string, column: string, limit = 30) =>
  (await db(table).where({ tenant_id: tenantId }).orderBy(column).limit(limit).pluck(column)) as string[];
// a real page position: the demo's invoices, as the list writes its cursor
const invoices = await db('invoices')
  .where({ tenant_id: tenantId })
  .select('id', db.raw(`to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`));
const NAMES = {
  identifier: fc.constantFrom(...(await pick('assets', 'identifier'))),
  account_id: fc.constantFrom(...(await pick('customers', 'account_id'))),
  site_id: fc.constantFrom(...(await pick('sites', 'id'))),
  service: fc.constantFrom(...(await pick('services', 'name'))),
  after: fc.constantFrom(
    ...invoices.map((i: { id: string; at: string }) => encodeInvoiceCursor({ updatedAt: i.at, id: i.id })),
  ),
};

/** Refusals for rules the document states in words, not in the schema: a valid request may still meet them. */
const RULES = [
  'names no asset of yours',
  'names no customer of yours',
  'is not the customer of this asset',
  'is more than a day in the future',
  'No site of yours has this id.',
  'No service of yours has this name.',
  'The visit cannot end before it started.',
  'A visit lasts at most 7 days.',
];

type Request = {
  kind: 'valid' | 'broken' | 'unstorable' | 'outside its scope';
  /** what was broken, for the failure message */
  where: string;
  query: [string, string][];
  headers: Record<string, string>;
  body?: unknown;
};

let idempotency = 0;
/** An address carries UTF-8: an unpaired surrogate cannot even be written into one, a NUL can. */
const inAnAddress = (text: string) => {
  try {
    return !!encodeURIComponent(text);
  } catch {
    return false;
  }
};

/**
 * Texts a parameter's schema refuses (parameters arrive as text, so a number is read from it first),
 * or null when the schema refuses no text at all.
 */
const invalidParameter = (schema: Schema): fc.Arbitrary<string> | null => {
  const s = deref(doc, schema);
  const numeric = s.type === 'integer' || s.type === 'number';
  const refused = (text: string) =>
    check(doc, s, numeric && /^-?\d+(\.\d+)?(e\d+)?$/.test(text) ? Number(text) : text).length > 0;
  const texts = fc.oneof(
    invalidValue(doc, s).map(asText),
    fc.constantFrom('corpus', ' ', '', 'x'.repeat(300), '{"nested":1}', '-1', '0', '1.5', '1e400'),
  );
  return fc.sample(texts, { numRuns: 50, seed: 1 }).some(refused) ? texts.filter(refused) : null;
};
const asText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

function requests(op: Operation): fc.Arbitrary<Request> {
  const params = op.parameters ?? [];
  const bodySchema = op.requestBody ? deref(doc, op.requestBody.content['application/json']!.schema) : null;
  const recordSchema = bodySchema?.properties?.records?.items ? deref(doc, bodySchema.properties.records.items) : null;
  const paramValue = (p: (typeof params)[number]) =>
    (NAMES[p.name as keyof typeof NAMES] ?? validValue(doc, p.schema)).map(asText);
  const valid = fc.record({
    params: fc.tuple(
      ...params.map((p) => (p.required ? paramValue(p).map((v) => v as string | null) : fc.option(paramValue(p)))),
    ),
    body: bodySchema ? validValue(doc, bodySchema, NAMES) : fc.constant(undefined),
  });
  const toRequest = (
    kind: Request['kind'],
    where: string,
    values: (string | null)[],
    body: unknown,
    change: (r: Request) => void = () => {},
  ): Request => {
    const r: Request = { kind, where, query: [], headers: {}, body };
    params.forEach((p, i) => {
      const v = values[i];
      if (v === null || v === undefined) return;
      // every write is new: a unique Idempotency-Key that still fits its pattern and length
      const value = p.name === 'Idempotency-Key' ? `${++idempotency}-${v}`.slice(0, 200) : v;
      if (p.in === 'query') r.query.push([p.name, value]);
      else r.headers[p.name] = value;
    });
    change(r);
    return r;
  };
  const breakings: fc.Arbitrary<Request>[] = [];
  params.forEach((p) => {
    const bad = invalidParameter(p.schema);
    if (bad)
      breakings.push(
        fc.tuple(valid, bad).map(([v, bad]) =>
          toRequest('broken', `${p.name}=${bad.slice(0, 30)}`, v.params, v.body, (r) => {
            if (p.in === 'query') r.query = [...r.query.filter(([k]) => k !== p.name), [p.name, bad]];
            else r.headers[p.name] = p.name === 'Idempotency-Key' ? bad.replace(/[^\x20-\x7e]/g, ' ') || ' ' : bad;
          }),
        ),
      );
    if (p.in === 'query')
      breakings.push(
        fc.tuple(valid, unstorableText.filter(inAnAddress)).map(([v, bad]) =>
          toRequest('unstorable', `${p.name} with ${JSON.stringify(bad)}`, v.params, v.body, (r) => {
            r.query = [...r.query.filter(([k]) => k !== p.name), [p.name, bad]];
          }),
        ),
      );
    if (p.required)
      breakings.push(
        valid.map((v) =>
          toRequest('broken', `without ${p.name}`, v.params, v.body, (r) => {
            r.query = r.query.filter(([k]) => k !== p.name);
            delete r.headers[p.name];
          }),
        ),
      );
  });
  if (recordSchema)
    for (const [name, prop] of Object.entries(recordSchema.properties ?? {})) {
      const inRecord = (kind: Request['kind'], bad: fc.Arbitrary<unknown>, label: string) =>
        fc.tuple(valid, bad, fc.nat()).map(([v, value, n]) => {
          const records = [...((v.body as { records: unknown[] }).records ?? [])];
          if (!records.length) records.push({});
          const i = n % records.length;
          records[i] = { ...(records[i] as object), [name]: value };
          return toRequest(kind, `records[${i}].${name} ${label}`, v.params, { ...(v.body as object), records });
        });
      breakings.push(inRecord('broken', invalidValue(doc, prop), '= an invalid value'));
      if (recordSchema.required?.includes(name)) breakings.push(inRecord('broken', fc.constant(undefined), 'missing'));
      const types = deref(doc, prop).type;
      if (types === 'string' || (Array.isArray(types) && types.includes('string')))
        breakings.push(inRecord('unstorable', unstorableText, '= text that cannot be stored'));
    }
  if (bodySchema)
    breakings.push(
      fc
        .tuple(valid, fc.constantFrom({}, { records: 'all of them' }, { records: {} }, [], 'records', null))
        .map(([v, body]) => toRequest('broken', `body ${JSON.stringify(body)}`, v.params, body)),
    );
  const scope = op['x-scopes'][0];
  const outside = scope
    ? [valid.map((v) => ({ ...toRequest('outside its scope', `a key without ${scope}`, v.params, v.body), scope }))]
    : [];
  return fc.oneof(
    { weight: 4, arbitrary: valid.map((v) => toRequest('valid', 'nothing', v.params, v.body)) },
    {
      weight: 4,
      arbitrary: fc.oneof(
        ...(breakings.length ? breakings : [valid.map((v) => toRequest('valid', 'nothing', v.params, v.body))]),
      ),
    },
    ...(outside.length ? [{ weight: 1, arbitrary: outside[0]! }] : []),
  );
}

const written = async () =>
  (
    await db.raw(
      `select (select count(*) from usage_records)::int + (select count(*) from asset_locations)::int
            + (select count(*) from service_visits)::int + (select count(*) from idempotency_keys)::int as n`,
    )
  ).rows[0].n as number;

/** About 2,000 cases in all; the key check has little to vary. */
const runsFor = (path: string) => (path === '/key' ? 100 : 475);
let lastWritten = await written();

describe('the API, driven by its OpenAPI document', () => {
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ method, path, op })),
  );

  it('has operations to drive', () => {
    expect(operations.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort()).toEqual([
      'GET /invoices',
      'GET /key',
      'POST /locations',
      'POST /service-visits',
      'POST /usage-records',
    ]);
  });

  for (const { method, path, op } of operations)
    it(`answers ${method.toUpperCase()} ${path} only as the document says`, async () => {
      await fc.assert(
        fc.asyncProperty(requests(op), async (r) => {
          const scope = (r as Request & { scope?: string }).scope;
          let req = (method === 'get' ? api.get(`/api/v1${path}`) : api.post(`/api/v1${path}`))
            .set('Authorization', `Bearer ${scope ? keyWithout[scope] : key}`)
            .set(r.headers)
            .query(r.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
          if (r.body !== undefined) req = req.set('Content-Type', 'application/json').send(JSON.stringify(r.body));
          const res = await req;
          const what = `${r.kind} (${r.where}) answered ${res.status} ${res.text.slice(0, 300)}`;
          expect(res.status, what).toBeLessThan(500);
          const answer = op.responses[String(res.status)];
          expect(answer, `${what}: not a documented answer`).toBeDefined();
          const schema = deref(doc, answer!).content?.['application/json']?.schema as Schema | undefined;
          if (schema) expect(check(doc, schema, res.body), what).toEqual([]);
          if (res.status === 429 || res.status === 503) expect(res.headers['retry-after'], what).toMatch(/^\d+$/);
          if (r.kind === 'valid') {
            if (res.status === 422)
              for (const e of res.body.errors as { message: string }[]) expect(RULES, what).toContain(e.message);
            else expect(res.status, what).toBe(200);
          } else if (r.kind === 'outside its scope') expect(res.status, what).toBe(403);
          else expect([400, 422], what).toContain(res.status);
          if (method !== 'get') {
            const now = await written();
            if (res.status >= 400) expect(now, `${what}: wrote`).toBe(lastWritten);
            lastWritten = now;
          }
        }),
        { numRuns: runsFor(path), seed: Number(process.env.PROPERTY_SEED ?? 17) },
      );
    }, 120_000);
});
