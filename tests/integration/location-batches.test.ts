import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeApiKey, makeAsset, makeCustomer, makeTenant } from '../support/factories.js';

/**
 * Positions the track already has, in the same batch as new ones: the batch is written by a plain
 * insert first and, when a position is already there, again with ON CONFLICT DO NOTHING, so these
 * are what the second way must get right.
 */
const { db } = await testDatabase();
const { app } = testApp({ db, env: { API_RATE_LIMIT: '1000' } });
const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id);
const key = await makeApiKey(db, tenant.id);
const truck = await makeAsset(db, { customer }, { identifier: '357200000000001' });
const van = await makeAsset(db, { customer }, { identifier: '357200000000002' });

const post = (idempotencyKey: string, records: unknown[]) =>
  supertest(app)
    .post('/api/v1/locations')
    .set('Authorization', `Bearer ${key}`)
    .set('Idempotency-Key', idempotencyKey)
    .send({ records });
const at = (identifier: string, time: string, latitude = 51) => ({
  identifier,
  latitude,
  longitude: -1,
  recorded_at: time,
});
const track = async (assetId: string) =>
  (
    await db('asset_locations').where({ asset_id: assetId }).orderBy('recorded_at').select('recorded_at', 'latitude')
  ).map((r: { recorded_at: Date; latitude: number }) => [r.recorded_at.toISOString(), r.latitude]);
const last = (assetId: string) => db('assets').where({ id: assetId }).first('last_latitude', 'last_located_at');

describe('a batch with positions already kept', () => {
  it('keeps the new positions, ignores those already there or sent twice, and moves to the newest', async () => {
    expect((await post('first', [at(truck.identifier, '2026-12-01T08:00:00.000Z', 50)])).status).toBe(200);
    const res = await post('second', [
      at(truck.identifier, '2026-12-01T08:00:00.000Z', 59), // kept already: the first one stays
      at(truck.identifier, '2026-12-01T09:00:00.000Z', 52),
      at(van.identifier, '2026-12-01T07:00:00.000Z', 53),
      at(van.identifier, '2026-12-01T07:00:00.000Z', 53), // twice in this batch
      at(van.identifier, '2026-12-01T06:00:00.000Z', 54),
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 5 });
    expect(await track(truck.id)).toEqual([
      ['2026-12-01T08:00:00.000Z', 50],
      ['2026-12-01T09:00:00.000Z', 52],
    ]);
    expect(await track(van.id)).toEqual([
      ['2026-12-01T06:00:00.000Z', 54],
      ['2026-12-01T07:00:00.000Z', 53],
    ]);
    expect(await last(truck.id)).toEqual({ last_latitude: 52, last_located_at: new Date('2026-12-01T09:00:00Z') });
    expect(await last(van.id)).toEqual({ last_latitude: 53, last_located_at: new Date('2026-12-01T07:00:00Z') });
  });

  it('refuses the whole batch when one identifier is unknown, even with positions already kept', async () => {
    const before = await track(truck.id);
    const res = await post('third', [
      at(truck.identifier, '2026-12-01T09:00:00.000Z'),
      at(truck.identifier, '2026-12-01T10:00:00.000Z'),
      at('357200000000999', '2026-12-01T10:00:00.000Z'),
    ]);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ errors: [{ index: 2, field: 'identifier', message: 'names no asset of yours' }] });
    expect(await track(truck.id)).toEqual(before);
    expect(await last(truck.id)).toEqual({ last_latitude: 52, last_located_at: new Date('2026-12-01T09:00:00Z') });
  });
});
