import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { createApiKey } from '../../src/services/integration/api-keys.js';
import { loadActor } from '../../src/services/people/sign-in.js';
import { siteMap } from '../../src/services/sites/map.js';
import { testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeSite, makeTenant, makeUser } from '../support/factories.js';

const { db } = await testDatabase();
const clock = fixedClock('2026-12-01T09:00:00Z');
const { app } = testApp({ db, clock });
const tenant = await makeTenant(db, { name: 'Visits Ltd' });
const customer = await makeCustomer(db, tenant.id);
const site = await makeSite(db, tenant.id, { name: 'Gate 1', customerId: customer.id });
const otherTenant = await makeTenant(db);
const foreignSite = await makeSite(db, otherTenant.id, { name: 'Not ours' });
await db('services').insert({ tenant_id: tenant.id, name: 'Gritting' });
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const adminActor = (await loadActor(db, admin.id, admin.membershipId))!;
const { secret } = await createApiKey(db, adminActor, { name: 'Job system', scopes: ['visits:write'] }, clock.now());
const viewer = await makeUser(db, { tenantId: tenant.id, role: 'site_viewer', customerId: customer.id });
await db('membership_sites').insert({ tenant_id: tenant.id, membership_id: viewer.membershipId, site_id: site.id });

const post = (body: unknown, key = 'k-1') =>
  supertest(app)
    .post('/api/v1/service-visits')
    .set('Authorization', `Bearer ${secret}`)
    .set('Idempotency-Key', key)
    .send(body as object);
const good = {
  site_id: site.id,
  service: 'gritting',
  vehicle: 'MX71 KLT',
  started_at: '2026-11-30T07:00:00Z',
  ended_at: '2026-11-30T07:40:00+00:00',
};

describe('POST /api/v1/service-visits', () => {
  it('records visits that turn the site green, once per Idempotency-Key', async () => {
    const res = await post({
      records: [
        good,
        { ...good, completed: false, started_at: '2026-11-29T07:00:00Z', ended_at: '2026-11-29T07:05:00Z' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 2 });
    const again = await post({
      records: [
        good,
        { ...good, completed: false, started_at: '2026-11-29T07:00:00Z', ended_at: '2026-11-29T07:05:00Z' },
      ],
    });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect([again.status, again.body]).toEqual([200, { accepted: 2 }]);
    expect(await db('service_visits').where({ site_id: site.id }).count({ n: '*' }).first()).toEqual({ n: 2 });
    const map = await siteMap(db, (await loadActor(db, viewer.id, viewer.membershipId))!, {
      range: { from: '2026-11-30', to: '2026-11-30' },
    }).catch((e: Error) => e);
    // the portal is off for this customer until staff switch it on
    expect(map).toBeInstanceOf(Error);
    await db('portal_access').insert({ tenant_id: tenant.id, customer_id: customer.id, enabled: true });
    const on = await siteMap(db, (await loadActor(db, viewer.id, viewer.membershipId))!, {
      range: { from: '2026-11-30', to: '2026-11-30' },
    });
    expect(on.sites.map((s) => s.serviced)).toEqual([true]);
  });

  it('refuses a batch with bad records by index and field, and writes none of it', async () => {
    const res = await post(
      {
        records: [
          good,
          { ...good, site_id: foreignSite.id },
          { ...good, service: 'Painting', vehicle: '', ended_at: '2026-11-30T06:00:00Z' },
          { ...good, started_at: '30/11/2026' },
        ],
      },
      'k-2',
    );
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { index: 1, field: 'site_id', message: 'No site of yours has this id.' },
      { index: 2, field: 'service', message: 'No service of yours has this name.' },
      { index: 2, field: 'vehicle', message: 'Enter the vehicle (its name or registration).' },
      { index: 2, field: 'ended_at', message: 'The visit cannot end before it started.' },
      {
        index: 3,
        field: 'started_at',
        message: 'Send an ISO 8601 time with its offset, such as 2026-11-24T09:30:00Z.',
      },
    ]);
    expect(await db('service_visits').where({ site_id: site.id }).count({ n: '*' }).first()).toEqual({ n: 2 });
  });

  it('refuses notes that are not text instead of storing them as none, and writes nothing', async () => {
    const before = await db('service_visits').count({ n: '*' }).first();
    const res = await post(
      {
        records: [
          { ...good, notes: 42 },
          { ...good, notes: { text: 'x' } },
          { ...good, notes: null },
        ],
      },
      'k-notes',
    );
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { index: 0, field: 'notes', message: 'Send notes as text.' },
      { index: 1, field: 'notes', message: 'Send notes as text.' },
    ]);
    expect(await db('service_visits').count({ n: '*' }).first()).toEqual(before);
  });

  it(
    'refuses a NUL or an unpaired surrogate in a vehicle, a service ' +
      'or notes by record and field, and writes nothing',
    async () => {
      const before = await db('service_visits').count({ n: '*' }).first();
      const res = await post(
        {
          records: [
            { ...good, vehicle: 'MX71\u0000KLT' },
            good,
            { ...good, service: 'gritting\ud800', notes: 'dropped \udc00 salt' },
          ],
        },
        'k-nul',
      );
      expect(res.status).toBe(422);
      const message = 'holds a character that cannot be stored (NUL or an unpaired surrogate)';
      expect(res.body.errors).toEqual([
        { index: 0, field: 'vehicle', message },
        { index: 2, field: 'service', message },
        { index: 2, field: 'notes', message },
      ]);
      expect(await db('service_visits').count({ n: '*' }).first()).toEqual(before);
    },
  );

  it('wants a key and a records array', async () => {
    expect((await supertest(app).post('/api/v1/service-visits').send({ records: [] })).status).toBe(401);
    expect((await post({ visits: [] }, 'k-3')).status).toBe(400);
  });
});
