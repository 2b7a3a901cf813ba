import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { RecordsError } from '../../src/errors.js';
import { runIdempotent } from '../../src/services/integration/idempotency.js';
import { hashToken } from '../../src/services/platform/tokens.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeApiKey, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const clock = fixedClock('2026-12-01T09:00:00Z');
const { app } = testApp({ db, clock, env: { API_RATE_LIMIT: '5' } });
const tenant = await makeTenant(db, { name: 'Keyed Telematics' });
const other = await makeTenant(db, { name: 'Other Keyed' });
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const otherAdmin = await makeUser(db, { tenantId: other.id, role: 'tenant_admin' });
const { agent, csrf } = await signedInAgent(app, admin.email, TEST_PASSWORD);

/** A key made through the form as it first shows: every scope ticked. */
async function createKey(name: string, as = { agent, csrf }) {
  const form = new URLSearchParams({ name, _csrf: as.csrf });
  for (const scope of ['locations:write', 'usage:write', 'visits:write', 'invoices:read']) form.append('scopes', scope);
  const res = await as.agent.post('/admin/api-keys').type('form').send(form.toString());
  expect(res.status).toBe(201);
  const secret = /id="new-key"[^>]*value="(pk_[A-Za-z0-9_-]+)"/.exec(res.text)?.[1];
  expect(secret).toBeDefined();
  return { secret: secret!, page: res };
}

const api = () => supertest(app);

/** Where the direct runIdempotent calls below count their keys: one API key of each tenant. */
async function scopeOf(tenantId: string) {
  await makeApiKey(db, tenantId, { name: 'Idempotent' });
  const { id } = await db('api_keys').where({ tenant_id: tenantId, name: 'Idempotent' }).first('id');
  return { tenantId, apiKeyId: id as string, method: 'POST', path: '/api/v1/test' };
}
const ourScope = await scopeOf(tenant.id);
const otherScope = await scopeOf(other.id);

describe('API keys', () => {
  it('shows a new key once, keeps only its hash, and the key then works', async () => {
    const { secret, page } = await createKey('Fleet tracker');
    expect(page.headers['cache-control']).toBe('no-store');
    const row = await db('api_keys').where({ tenant_id: tenant.id, name: 'Fleet tracker' }).first();
    expect(row.key_hash).toEqual(hashToken(secret));
    expect(JSON.stringify(row)).not.toContain(secret.slice(3));
    expect((await agent.get('/admin/api-keys')).text).not.toContain(secret);

    const res = await api().get('/api/v1/key').set('Authorization', `Bearer ${secret}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      name: 'Fleet tracker',
      scopes: ['locations:write', 'usage:write', 'visits:write', 'invoices:read'],
    });
    expect((await db('api_keys').where({ id: row.id }).first('last_used_at')).last_used_at).toEqual(clock.now());
    // the list says when it was last used
    expect((await agent.get('/admin/api-keys')).text).toMatch(/Fleet tracker[\s\S]*1 Dec 2026/);
  });

  it('asks for a name next to the field', async () => {
    const res = await agent.post('/admin/api-keys').type('form').send({ name: '  ', _csrf: csrf });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Give the key a name');
  });

  it('answers 401 with no key, a made-up key and a revoked key, in JSON', async () => {
    const none = await api().get('/api/v1/key');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.body.error).toMatch(/Authorization: Bearer/);
    const wrong = await api()
      .get('/api/v1/key')
      .set('Authorization', `Bearer pk_${'x'.repeat(43)}`);
    expect(wrong.status).toBe(401);

    const { secret } = await createKey('Old switch');
    const id = (await db('api_keys').where({ name: 'Old switch' }).first('id')).id as string;
    expect((await agent.get(`/admin/api-keys/${id}/revoke`)).text).toContain('Revoking cannot be undone');
    const revoke = await agent.post(`/admin/api-keys/${id}/revoke`).type('form').send({ _csrf: csrf });
    expect(revoke.status).toBe(303);
    const after = await api().get('/api/v1/key').set('Authorization', `Bearer ${secret}`);
    expect(after.status).toBe(401);
    expect(after.body.error).toMatch(/revoked/);
  });

  it("does not let another tenant's admin see or revoke the key", async () => {
    await createKey('Private key');
    const id = (await db('api_keys').where({ name: 'Private key' }).first('id')).id as string;
    const them = await signedInAgent(app, otherAdmin.email, TEST_PASSWORD);
    expect((await them.agent.get('/admin/api-keys')).text).not.toContain('Private key');
    expect((await them.agent.post(`/admin/api-keys/${id}/revoke`).type('form').send({ _csrf: them.csrf })).status).toBe(
      404,
    );
    expect((await db('api_keys').where({ id }).first('revoked_at')).revoked_at).toBeNull();
  });

  it('limits requests per key per minute with 429 and Retry-After, and lets it go on in the next minute', async () => {
    const { secret } = await createKey('Chatty');
    const call = () => api().get('/api/v1/key').set('Authorization', `Bearer ${secret}`);
    for (let i = 0; i < 5; i++) expect((await call()).status).toBe(200);
    const limited = await call();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.error).toMatch(/requests a minute/);
    clock.advance(61_000);
    expect((await call()).status).toBe(200);
  });

  it('answers unknown API paths and bad JSON in JSON, never HTML', async () => {
    const { secret } = await createKey('Prober');
    const missing = await api().get('/api/v1/nothing-here').set('Authorization', `Bearer ${secret}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/openapi\.json/);
    const bad = await api()
      .post('/api/v1/locations')
      .set('Authorization', `Bearer ${secret}`)
      .set('Content-Type', 'application/json')
      .send('{"records": [');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'The body is not valid JSON.' });
  });
});

describe('methods', () => {
  it('answers a method an endpoint does not take with 405 and what it takes in Allow, in JSON', async () => {
    const post = await api().post('/api/v1/key').send({});
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    expect(post.body.error).toMatch(/GET, HEAD/);
    const get = await api().get('/api/v1/locations');
    expect([get.status, get.headers.allow, get.type]).toEqual([405, 'POST', 'application/json']);
    expect((await api().delete('/api/v1/invoices/')).headers.allow).toBe('GET, HEAD');
  });
});

describe('idempotent writes', () => {
  const hash = (s: string) => hashToken(s);
  const write = (n: number) => async (trx: Parameters<Parameters<typeof runIdempotent>[2]>[0]) => {
    await trx('rate_limits').insert({ key: `idem-test-${n}-${Math.random()}`, failures: n });
    return { status: 200, body: { accepted: n } };
  };
  const written = async () =>
    Number((await db('rate_limits').whereLike('key', 'idem-test-%').count({ n: '*' }).first())!.n);

  it('does the work once and replays the first answer for the same key and body', async () => {
    const before = await written();
    const first = await runIdempotent(db, { ...ourScope, key: 'batch-1', requestHash: hash('body') }, write(3));
    const again = await runIdempotent(db, { ...ourScope, key: 'batch-1', requestHash: hash('body') }, write(3));
    expect(first).toEqual({ status: 200, body: { accepted: 3 }, replayed: false });
    expect(again).toEqual({ status: 200, body: { accepted: 3 }, replayed: true });
    expect(await written()).toBe(before + 1);
  });

  it('refuses the same key with another body (409), and keys of two tenants never meet', async () => {
    await runIdempotent(db, { ...ourScope, key: 'batch-2', requestHash: hash('a') }, write(1));
    await expect(
      runIdempotent(db, { ...ourScope, key: 'batch-2', requestHash: hash('b') }, write(1)),
    ).rejects.toMatchObject({ status: 409 });
    const theirs = await runIdempotent(db, { ...otherScope, key: 'batch-2', requestHash: hash('b') }, write(1));
    expect(theirs.replayed).toBe(false);
  });

  it('stores nothing when the work is refused, so the corrected batch can use the same key', async () => {
    const before = await written();
    const refuse = async (trx: Parameters<Parameters<typeof runIdempotent>[2]>[0]) => {
      await trx('rate_limits').insert({ key: `idem-test-half-${Math.random()}`, failures: 1 });
      throw new RecordsError([{ index: 4, field: 'latitude', message: 'must be between -90 and 90' }]);
    };
    await expect(
      runIdempotent(db, { ...ourScope, key: 'batch-3', requestHash: hash('bad') }, refuse),
    ).rejects.toBeInstanceOf(RecordsError);
    expect(await written()).toBe(before);
    const fixed = await runIdempotent(db, { ...ourScope, key: 'batch-3', requestHash: hash('good') }, write(5));
    expect(fixed.replayed).toBe(false);
  });

  it('lets two requests with the same key at once write once', async () => {
    const before = await written();
    const both = await Promise.all(
      [1, 2].map(() => runIdempotent(db, { ...ourScope, key: 'batch-4', requestHash: hash('same') }, write(2))),
    );
    expect(both.map((a) => a.replayed).sort()).toEqual([false, true]);
    expect(await written()).toBe(before + 1);
  });
});

describe('wrong keys from one address', () => {
  it(
    'answers 429 with Retry-After after 30 wrong keys, to wrong and ' +
      'right keys alike, until the 15 minutes are over',
    async () => {
      const { secret } = await createKey('Behind the guesser');
      await db('rate_limits').whereLike('key', 'api-address:%').del();
      const guess = () =>
        api()
          .get('/api/v1/key')
          .set('Authorization', `Bearer pk_${'g'.repeat(43)}`);
      const right = () => api().get('/api/v1/key').set('Authorization', `Bearer ${secret}`);
      for (let i = 0; i < 29; i++) expect((await guess()).status).toBe(401);
      const thirtieth = await guess();
      expect(thirtieth.status).toBe(429);
      // checked before the key is looked up: the 31st guess, and a right key, get no answer about the key
      const thirtyFirst = await guess();
      expect(thirtyFirst.status).toBe(429);
      expect(thirtyFirst.body.error).toMatch(/wrong API keys/);
      expect(Number(thirtyFirst.headers['retry-after'])).toBe(15 * 60);
      const blockedRight = await right();
      expect(blockedRight.status).toBe(429);
      expect(blockedRight.body).not.toHaveProperty('name');
      clock.advance(14 * 60_000);
      const late = await guess();
      expect(late.status).toBe(429);
      expect(Number(late.headers['retry-after'])).toBe(60);
      clock.advance(60_000);
      expect((await right()).status).toBe(200);
      expect((await guess()).status).toBe(401);
    },
  );
});

describe('scopes', () => {
  it("keeps a location tracker's key to locations: invoices and usage answer 403 in JSON", async () => {
    const res = await agent
      .post('/admin/api-keys')
      .type('form')
      .send({ name: 'Tracker only', scopes: 'locations:write', _csrf: csrf });
    expect(res.status).toBe(201);
    const secret = /id="new-key"[^>]*value="(pk_[A-Za-z0-9_-]+)"/.exec(res.text)![1]!;
    const as = (r: supertest.Test) => r.set('Authorization', `Bearer ${secret}`);
    const invoices = await as(api().get('/api/v1/invoices'));
    expect(invoices.status).toBe(403);
    expect(invoices.body.error).toMatch(/invoices:read/);
    expect(invoices.body).not.toHaveProperty('invoices');
    const usage = await as(api().post('/api/v1/usage-records').set('Idempotency-Key', 's-1')).send({ records: [{}] });
    expect([usage.status, usage.body.error]).toEqual([403, expect.stringMatching(/usage:write/)]);
    // what it may do works, and it can see its own scopes
    const locations = await as(api().post('/api/v1/locations').set('Idempotency-Key', 's-2')).send({ records: [{}] });
    expect(locations.status).toBe(422);
    expect((await as(api().get('/api/v1/key'))).body).toEqual({ name: 'Tracker only', scopes: ['locations:write'] });
  });

  it('lets a key made before keys had scopes do everything it could do then', async () => {
    // a row as the app wrote it before the scopes migration: no scopes named
    const old = await makeApiKey(db, tenant.id, { name: 'From before scopes' });
    const res = await api().get('/api/v1/key').set('Authorization', `Bearer ${old}`);
    expect(res.body.scopes).toEqual(['locations:write', 'usage:write', 'visits:write', 'invoices:read']);
    expect((await api().get('/api/v1/invoices').set('Authorization', `Bearer ${old}`)).status).toBe(200);
  });

  it('offers every scope ticked, wants at least one, and lists what each key may do', async () => {
    const form = await agent.get('/admin/api-keys');
    for (const scope of ['locations:write', 'usage:write', 'visits:write', 'invoices:read'])
      expect(form.text).toMatch(new RegExp(`name="scopes" value="${scope}" checked`));
    const none = await agent.post('/admin/api-keys').type('form').send({ name: 'Nothing', _csrf: csrf });
    expect(none.status).toBe(422);
    expect(none.text).toMatch(
      /<span class="error" id="f-scopes-error">Choose at least one thing the key may do.<\/span>/,
    );
    expect(none.text).not.toMatch(/name="scopes" value="[^"]+" checked/);
    expect(await db('api_keys').where({ tenant_id: tenant.id, name: 'Nothing' }).first()).toBeUndefined();
    const made = await agent
      .post('/admin/api-keys')
      .type('form')
      .send(`name=Billing+export&scopes=invoices%3Aread&scopes=usage%3Awrite&_csrf=${encodeURIComponent(csrf)}`);
    expect(made.status).toBe(201);
    const row = /<td>Billing export<\/td>\s*<td><code>[^<]+<\/code><\/td>\s*<td>(.*?)<\/td>/.exec(made.text)?.[1];
    expect(row).toBe('<code>usage:write</code><br><code>invoices:read</code>');
  });
});
