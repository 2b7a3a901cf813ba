import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { demoLoginLink } from '../../src/demo/sites.js';
import { validateGeofence } from '../../src/services/sites/geofence-rules.js';
import { pictureType } from '../../src/services/sites/rules.js';
import { testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const { db } = await testDatabase();
await seedDemo(db, { now: NOW });
const { app, ctx } = testApp({ db, clock: fixedClock(NOW) });

describe('the demo sites', () => {
  it('have geofences that pass validation, a month of visits and real pictures', async () => {
    const sites = (await db('sites')
      .where({ tenant_id: demoId('tenant:demo') })
      .select('name', 'geofence')) as { name: string; geofence: unknown }[];
    expect(sites.length).toBeGreaterThanOrEqual(6);
    for (const s of sites) expect(validateGeofence(s.geofence).ok, s.name).toBe(true);
    const span = (await db('service_visits').min({ first: 'started_at' }).max({ last: 'started_at' }).first()) as {
      first: Date;
      last: Date;
    };
    expect((span.last.getTime() - span.first.getTime()) / 86_400_000).toBeGreaterThanOrEqual(28);
    const picture = (await db('pictures').first('bytes')) as { bytes: Buffer };
    expect(pictureType(picture.bytes)).toBe('image/png');
  });

  it('print the same working login link at every start, until staff refresh or disable it', async () => {
    // three instances starting at once make it together
    const links = await Promise.all(
      [1, 2, 3].map(() => demoLoginLink(db, ctx.config.sessionSecret, ctx.config.baseUrl, NOW)),
    );
    expect(new Set(links).size).toBe(1);
    const link = links[0]!;
    expect(link).toMatch(/\/link\/[A-Za-z0-9_-]{43}$/);
    expect(await demoLoginLink(db, ctx.config.sessionSecret, ctx.config.baseUrl, NOW)).toBe(link);
    const path = new URL(link!).pathname;
    const opened = await supertest(app).get(path);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/sites');
    await db('user_tokens')
      .where({ user_id: demoId('user:sites@northwind.test'), purpose: 'login_link' })
      .update({ revoked_at: NOW });
    expect(await demoLoginLink(db, ctx.config.sessionSecret, ctx.config.baseUrl, NOW)).toBeNull();
  });
});
