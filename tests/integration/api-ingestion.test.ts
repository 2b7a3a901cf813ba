import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeApiKey, makeAsset, makeCustomer, makeTenant } from '../support/factories.js';

const { db } = await testDatabase();
const { app } = testApp({ db, env: { API_RATE_LIMIT: '1000' } });

const tenantA = await makeTenant(db, { name: 'Alpha Tracking' });
const tenantB = await makeTenant(db, { name: 'Bravo Tracking' });
const alphaCustomer = await makeCustomer(db, tenantA.id, { account_id: 'AL-1' });
const bravoCustomer = await makeCustomer(db, tenantB.id, { account_id: 'BR-1' });
const keyA = await makeApiKey(db, tenantA.id);
const revokedA = await makeApiKey(db, tenantA.id, { revoked: true });

// 100 assets of tenant A, one of tenant B
const alphaAssets = await Promise.all(
  Array.from({ length: 100 }, (_, i) =>
    makeAsset(db, { customer: alphaCustomer }, { identifier: `35999900000${String(i).padStart(4, '0')}` }),
  ),
);
const bravoAsset = await makeAsset(
  db,
  { customer: bravoCustomer },
  {
    identifier: '358888000000001',
    last_latitude: 1,
    last_longitude: 1,
    last_located_at: new Date('2026-01-01T00:00:00Z'),
  },
);

const post = (path: string, key: string, idempotencyKey: string, body: unknown) =>
  supertest(app)
    .post(`/api/v1${path}`)
    .set('Authorization', `Bearer ${key}`)
    .set('Idempotency-Key', idempotencyKey)
    .send(body as object);

/** 10,000 positions: 100 per asset, a minute apart, the newest at 12:00 of 1 Dec. */
const tenThousand = alphaAssets.flatMap((a, i) =>
  Array.from({ length: 100 }, (_, j) => ({
    identifier: a.identifier,
    latitude: 50 + i / 1000 + j / 100_000,
    longitude: -1 - j / 100_000,
    recorded_at: new Date(Date.UTC(2026, 11, 1, 12, 0) - j * 60_000).toISOString(),
  })),
);

const counts = async () => ({
  locations: Number((await db('asset_locations').count({ n: '*' }).first())!.n),
  usage: Number((await db('usage_records').count({ n: '*' }).first())!.n),
});

describe('POST /api/v1/locations', () => {
  it('lands a batch of 10,000 locations in one request and moves each asset to its newest position', async () => {
    const res = await post('/locations', keyA, 'batch-1', { records: tenThousand });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 10_000 });
    expect((await counts()).locations).toBe(10_000);
    const first = await db('assets')
      .where({ id: alphaAssets[0]!.id })
      .first('last_latitude', 'last_longitude', 'last_located_at');
    expect(first).toEqual({ last_latitude: 50, last_longitude: -1, last_located_at: new Date('2026-12-01T12:00:00Z') });
  });

  it('changes nothing when the same batch is posted again, with the same key or a new one', async () => {
    const before = await counts();
    const assetsBefore = await db('assets')
      .where({ tenant_id: tenantA.id })
      .orderBy('id')
      .select('id', 'last_latitude', 'last_longitude', 'last_located_at');
    const replay = await post('/locations', keyA, 'batch-1', { records: tenThousand });
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual({ accepted: 10_000 });
    const again = await post('/locations', keyA, 'batch-1-resent', { records: tenThousand });
    expect(again.status).toBe(200);
    expect(await counts()).toEqual(before);
    expect(
      await db('assets')
        .where({ tenant_id: tenantA.id })
        .orderBy('id')
        .select('id', 'last_latitude', 'last_longitude', 'last_located_at'),
    ).toEqual(assetsBefore);
  });

  it('does not move an asset back to an older position that arrives late', async () => {
    const a = alphaAssets[1]!;
    await post('/locations', keyA, 'late-1', {
      records: [{ identifier: a.identifier, latitude: 10, longitude: 10, recorded_at: '2026-11-01T00:00:00Z' }],
    });
    expect(await db('assets').where({ id: a.id }).first('last_located_at')).toEqual({
      last_located_at: new Date('2026-12-01T12:00:00Z'),
    });
  });

  it('answers 401 to a revoked key and a wrong key, and writes nothing', async () => {
    const before = await counts();
    const record = {
      identifier: alphaAssets[0]!.identifier,
      latitude: 1,
      longitude: 1,
      recorded_at: '2026-12-01T13:00:00Z',
    };
    const revoked = await post('/locations', revokedA, 'k-401', { records: [record] });
    expect(revoked.status).toBe(401);
    expect(revoked.body.error).toMatch(/revoked/);
    const wrong = await post('/locations', `pk_${'A'.repeat(43)}`, 'k-401', { records: [record] });
    expect(wrong.status).toBe(401);
    expect(await counts()).toEqual(before);
  });

  it('refuses a batch with one bad record, names that record and its field, and writes nothing', async () => {
    const before = await counts();
    const batch = tenThousand
      .slice(0, 500)
      .map((r, i) => ({ ...r, recorded_at: new Date(Date.UTC(2026, 11, 2) + i * 1000).toISOString() }));
    batch[317] = { ...batch[317]!, latitude: 123 };
    const res = await post('/locations', keyA, 'bad-1', { records: batch });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: [{ index: 317, field: 'latitude', message: 'must be between -90 and 90' }] });
    expect(await counts()).toEqual(before);
    // corrected, the same Idempotency-Key may be sent again: the refusal was not stored
    batch[317] = { ...batch[317]!, latitude: 45 };
    expect((await post('/locations', keyA, 'bad-1', { records: batch })).status).toBe(200);
  });

  it('names every problem of a record: missing fields, a time without a zone, an unknown identifier', async () => {
    const res = await post('/locations', keyA, 'bad-2', {
      records: [
        { identifier: alphaAssets[0]!.identifier, latitude: '51.5', recorded_at: '2026-12-01 10:00' },
        { identifier: 'no-such-device', latitude: 1, longitude: 1, recorded_at: '2026-12-01T10:00:00Z' },
        'not an object',
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { index: 0, field: 'latitude', message: 'must be a number' },
      { index: 0, field: 'longitude', message: 'is required' },
      { index: 0, field: 'recorded_at', message: 'must be an ISO 8601 time with a zone, like 2026-12-01T08:30:00Z' },
      { index: 1, field: 'identifier', message: 'names no asset of yours' },
      { index: 2, field: '', message: 'must be an object' },
    ]);
  });

  it("does not let a key of tenant A touch tenant B's assets: their identifiers are unknown to it", async () => {
    const res = await post('/locations', keyA, 'cross-1', {
      records: [{ identifier: bravoAsset.identifier, latitude: 5, longitude: 5, recorded_at: '2026-12-01T10:00:00Z' }],
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ index: 0, field: 'identifier', message: 'names no asset of yours' }]);
    expect(await db('assets').where({ id: bravoAsset.id }).first('last_latitude')).toEqual({ last_latitude: 1 });
    expect(await db('asset_locations').where({ asset_id: bravoAsset.id }).count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it("takes an asset's track with it when the asset is deleted", async () => {
    const gone = alphaAssets[99]!;
    expect(
      Number((await db('asset_locations').where({ asset_id: gone.id }).count({ n: '*' }).first())!.n),
    ).toBeGreaterThan(0);
    await db('assets').where({ id: gone.id }).del();
    expect(await db('asset_locations').where({ asset_id: gone.id }).count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('refuses more than 10,000 records, and a body without records, with a reason', async () => {
    const tooMany = await post('/locations', keyA, 'big-1', { records: [...tenThousand, tenThousand[0]] });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatch(/at most 10,000/);
    expect((await post('/locations', keyA, 'shape-1', { rows: [] })).status).toBe(400);
  });
});

describe('POST /api/v1/usage-records', () => {
  it(
    'writes usage records of an asset and of a customer through the one writer, ' + 'in the customer’s currency',
    async () => {
      await db('customers').where({ id: alphaCustomer.id }).update({ currency: 'GBP' });
      const body = {
        records: [
          {
            identifier: alphaAssets[0]!.identifier,
            product: 'voice',
            occurred_at: '2026-12-01T09:00:00Z',
            direction: 'outbound',
            status: 'answered',
            from_number: '+447700900001',
            to_number: '+442079460000',
            duration_seconds: 95,
            price_minor: 12,
          },
          {
            account_id: 'AL-1',
            product: 'sms',
            occurred_at: '2026-12-01T09:01:00Z',
            direction: 'inbound',
            status: 'delivered',
            from_number: '+447700900002',
            to_number: '+447700900001',
            content: 'On my way',
          },
        ],
      };
      const res = await post('/usage-records', keyA, 'usage-1', body);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accepted: 2 });
      const rows = await db('usage_records')
        .where({ tenant_id: tenantA.id })
        .orderBy('occurred_at')
        .select('asset_id', 'customer_id', 'product', 'duration_seconds', 'price_minor', 'currency', 'content');
      expect(rows).toEqual([
        {
          asset_id: alphaAssets[0]!.id,
          customer_id: alphaCustomer.id,
          product: 'voice',
          duration_seconds: 95,
          price_minor: 12,
          currency: 'GBP',
          content: null,
        },
        {
          asset_id: null,
          customer_id: alphaCustomer.id,
          product: 'sms',
          duration_seconds: 0,
          price_minor: 0,
          currency: 'GBP',
          content: 'On my way',
        },
      ]);
      // the same request again is answered from the first time and writes nothing
      const again = await post('/usage-records', keyA, 'usage-1', body);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect([again.status, again.body]).toEqual([200, { accepted: 2 }]);
      expect(await db('usage_records').where({ tenant_id: tenantA.id }).count({ n: '*' }).first()).toEqual({ n: 2 });
    },
  );

  it("refuses another tenant's account and asset, and a record with neither, and writes nothing", async () => {
    const before = await counts();
    const base = {
      product: 'voice',
      occurred_at: '2026-12-01T09:00:00Z',
      direction: 'outbound',
      status: 'answered',
      from_number: '1',
      to_number: '2',
    };
    const res = await post('/usage-records', keyA, 'usage-bad', {
      records: [
        { ...base, account_id: 'BR-1' },
        { ...base, identifier: bravoAsset.identifier },
        { ...base },
        { ...base, account_id: 'AL-1', product: 'fax' },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { index: 0, field: 'account_id', message: 'names no customer of yours' },
      { index: 1, field: 'identifier', message: 'names no asset of yours' },
      { index: 2, field: 'identifier', message: 'is required unless account_id names the customer' },
      { index: 3, field: 'product', message: 'must be one of sms, voice, video, messaging' },
    ]);
    expect(await counts()).toEqual(before);
  });
});

describe('text PostgreSQL cannot store, and batches of bad records', () => {
  const message = 'holds a character that cannot be stored (NUL or an unpaired surrogate)';
  const sms = {
    account_id: 'AL-1',
    product: 'sms',
    occurred_at: '2026-12-01T09:00:00Z',
    direction: 'inbound',
    status: 'delivered',
    from_number: '+447700900002',
    to_number: '+447700900001',
  };

  it('refuses a NUL or an unpaired surrogate in any text field by record and field, and writes nothing', async () => {
    const before = await counts();
    const usage = await post('/usage-records', keyA, 'nul-1', {
      records: [
        { ...sms, account_id: 'AL\u00001' },
        { ...sms, from_number: '+44\ud83d', content: 'hi \udc00 there', contact_name: 'Ann\u0000' },
        { ...sms, identifier: '\u0000', account_id: undefined },
        sms,
      ],
    });
    expect(usage.status).toBe(422);
    expect(usage.body.errors).toEqual([
      { index: 0, field: 'account_id', message },
      { index: 1, field: 'from_number', message },
      { index: 1, field: 'content', message },
      { index: 1, field: 'contact_name', message },
      { index: 2, field: 'identifier', message },
    ]);
    const location = await post('/locations', keyA, 'nul-2', {
      records: [
        {
          identifier: `${alphaAssets[0]!.identifier}\u0000`,
          latitude: 1,
          longitude: 1,
          recorded_at: '2026-12-01T10:00:00Z',
        },
      ],
    });
    expect([location.status, location.body.errors]).toEqual([422, [{ index: 0, field: 'identifier', message }]]);
    expect(await counts()).toEqual(before);
  });

  it(
    'takes text of spaces alone as not given: a record whose ' + 'identifier is spaces still needs an account_id',
    async () => {
      const res = await post('/usage-records', keyA, 'spaces-1', {
        records: [{ ...sms, account_id: undefined, identifier: '   ', content: ' ' }],
      });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([
        { index: 0, field: 'identifier', message: 'is required unless account_id names the customer' },
      ]);
    },
  );

  it('answers a batch of 10,000 empty records with its first 1,000 problems, not all 70,000', async () => {
    const res = await post('/usage-records', keyA, 'empty-1', { records: Array.from({ length: 10_000 }, () => ({})) });
    expect(res.status).toBe(422);
    expect(res.body.errors).toHaveLength(1000);
    expect(res.body.errors[0]).toEqual({ index: 0, field: 'product', message: 'is required' });
    expect(res.text.length).toBeLessThan(100_000);
  });
});

describe('Idempotency-Key', () => {
  const sms = (to: string) => ({
    account_id: 'AL-1',
    product: 'sms',
    occurred_at: '2026-12-01T11:00:00Z',
    direction: 'outbound',
    status: 'delivered',
    from_number: '+447700900001',
    to_number: to,
  });
  const usageOf = async (to: string) =>
    Number((await db('usage_records').where({ tenant_id: tenantA.id, to_number: to }).count({ n: '*' }).first())!.n);

  it("gives another integration reusing a key its own fresh answer, never the first one's or a 409", async () => {
    const keyB = await makeApiKey(db, tenantA.id, { name: 'Integration B' });
    const keyC = await makeApiKey(db, tenantA.id, { name: 'Integration C' });
    const first = await post('/usage-records', keyA, 'shared-key', { records: [sms('+441')] });
    expect([first.status, first.body]).toEqual([200, { accepted: 1 }]);
    // B sends another body under A's key: accepted, not refused as a reuse
    const other = await post('/usage-records', keyB, 'shared-key', { records: [sms('+442'), sms('+443')] });
    expect([other.status, other.body, other.headers['idempotent-replayed']]).toEqual([200, { accepted: 2 }, undefined]);
    // C sends A's very body: its record is written, A's answer is not replayed to it
    const same = await post('/usage-records', keyC, 'shared-key', { records: [sms('+441')] });
    expect([same.status, same.body, same.headers['idempotent-replayed']]).toEqual([200, { accepted: 1 }, undefined]);
    expect(await usageOf('+441')).toBe(2);
    // each integration still gets its own first answer again, and nothing more is written
    const againB = await post('/usage-records', keyB, 'shared-key', { records: [sms('+442'), sms('+443')] });
    expect([againB.status, againB.body, againB.headers['idempotent-replayed']]).toEqual([200, { accepted: 2 }, 'true']);
    const againA = await post('/usage-records', keyA, 'shared-key', { records: [sms('+441')] });
    expect([againA.status, againA.headers['idempotent-replayed']]).toEqual([200, 'true']);
    expect(await usageOf('+441')).toBe(2);
    expect(await usageOf('+442')).toBe(1);
  });

  it('scopes a key by path: the same key on another endpoint is a new request', async () => {
    const location = {
      identifier: alphaAssets[1]!.identifier,
      latitude: 3,
      longitude: 3,
      recorded_at: '2026-12-03T10:00:00Z',
    };
    expect((await post('/usage-records', keyA, 'per-path', { records: [sms('+449')] })).status).toBe(200);
    const res = await post('/locations', keyA, 'per-path', { records: [location] });
    expect([res.status, res.body, res.headers['idempotent-replayed']]).toEqual([200, { accepted: 1 }, undefined]);
  });

  it('is ignored on GET: every read is answered afresh', async () => {
    const read = () =>
      supertest(app).get('/api/v1/key').set('Authorization', `Bearer ${keyA}`).set('Idempotency-Key', 'read-1');
    await db('api_keys').where({ tenant_id: tenantA.id }).whereNull('revoked_at').update({ name: 'Before' });
    expect((await read()).body.name).toBe('Before');
    await db('api_keys').where({ tenant_id: tenantA.id }).whereNull('revoked_at').update({ name: 'After' });
    const again = await read();
    expect([again.body.name, again.headers['idempotent-replayed']]).toEqual(['After', undefined]);
  });
});
