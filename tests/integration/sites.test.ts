import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { loadActor } from '../../src/services/people/sign-in.js';
import { demoPicture } from '../../src/demo/sites.js';
import { siteMap } from '../../src/services/sites/map.js';
import { LIVE_VIEW_PERMISSIONS, type LiveViewPermission } from '../../src/services/sites/rules.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeServiceVisit, makeSite, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const clock = fixedClock('2026-12-01T09:00:00Z');
const { app } = testApp({ db, clock });

// ---- a provider, its customer with four sites (three shared with the site viewer), a rival's site ----
const tenant = await makeTenant(db, { name: 'Sitewise Services' });
const fleetco = await makeCustomer(db, tenant.id, { title: 'Fleetco' });
const rival = await makeCustomer(db, tenant.id, { title: 'Rival Freight' });
const siteA = await makeSite(db, tenant.id, { name: 'A Depot', customerId: fleetco.id });
const siteB = await makeSite(db, tenant.id, { name: 'B Yard', customerId: fleetco.id, centre: [-2.25, 53.47] });
const siteD = await makeSite(db, tenant.id, { name: 'D Store', customerId: fleetco.id, centre: [-2.26, 53.49] });
const unshared = await makeSite(db, tenant.id, { name: 'C Unshared', customerId: fleetco.id, centre: [-2.27, 53.46] });
const rivalSite = await makeSite(db, tenant.id, { name: 'Rival Site', customerId: rival.id, centre: [-2.28, 53.45] });
const [waste] = (await db('services').insert({ tenant_id: tenant.id, name: 'Waste collection' }).returning('id')) as {
  id: string;
}[];
const [gritting] = (await db('services').insert({ tenant_id: tenant.id, name: 'Gritting' }).returning('id')) as {
  id: string;
}[];
const admin = await makeUser(
  db,
  { tenantId: tenant.id, role: 'tenant_admin' },
  { name: 'Tess Admin', email: 'tess@sitewise.test' },
);
const viewer = await makeUser(
  db,
  { tenantId: tenant.id, role: 'site_viewer', customerId: fleetco.id },
  { name: 'Vic Viewer' },
);
await db('membership_sites').insert(
  [siteA, siteB, siteD].map((s) => ({ tenant_id: tenant.id, membership_id: viewer.membershipId, site_id: s.id })),
);
const allOn = Object.fromEntries(LIVE_VIEW_PERMISSIONS.map((p) => [p, true]));
await db('portal_access').insert({ tenant_id: tenant.id, customer_id: fleetco.id, enabled: true, ...allOn });
const setAccess = (changes: Partial<Record<LiveViewPermission | 'enabled', boolean>>) =>
  db('portal_access')
    .where({ tenant_id: tenant.id, customer_id: fleetco.id })
    .update({ enabled: true, ...allOn, ...changes });

// the week of 24 to 30 November 2026: in London that is [24 Nov 00:00Z, 1 Dec 00:00Z), in New York
// [24 Nov 05:00Z, 1 Dec 05:00Z)
const week = { from: '2026-11-24', to: '2026-11-30' };
// ends as London's range begins
await makeServiceVisit(db, siteA, { startedAt: '2026-11-23T23:00:00Z', endedAt: '2026-11-24T00:00:00Z' });
await makeServiceVisit(db, siteA, {
  startedAt: '2026-12-01T02:00:00Z',
  endedAt: '2026-12-01T02:30:00Z',
  vehicle: 'MX71 KLT',
}); // 30 Nov, 21:00 in New York
// 23 Nov, 20:00 in New York
await makeServiceVisit(db, siteB, { startedAt: '2026-11-24T01:00:00Z', endedAt: '2026-11-24T01:30:00Z' });
await makeServiceVisit(db, siteD, {
  startedAt: '2026-11-26T10:00:00Z',
  endedAt: '2026-11-26T11:00:00Z',
  completed: false,
});
// what the permission tests look at: one completed visit at B with its picture, a site picture of B
const shown = await makeServiceVisit(db, siteB, {
  startedAt: '2026-11-27T08:00:00Z',
  endedAt: '2026-11-27T08:40:00Z',
  serviceId: waste!.id,
  vehicle: 'YH68 ZPE',
});
const png = demoPicture([40, 120, 60], 1);
const [visitPicture] = (await db('pictures')
  .insert({
    tenant_id: tenant.id,
    site_id: siteB.id,
    visit_id: shown.id,
    content_type: 'image/png',
    byte_size: png.length,
    bytes: png,
    caption: 'Bins emptied',
  })
  .returning('id')) as { id: string }[];
const [sitePicture] = (await db('pictures')
  .insert({
    tenant_id: tenant.id,
    site_id: siteB.id,
    content_type: 'image/png',
    byte_size: png.length,
    bytes: png,
    caption: 'Yard gate',
  })
  .returning('id')) as { id: string }[];

const viewerAs = async (timeZone: string) => {
  await db('users').where({ id: viewer.id }).update({ time_zone: timeZone });
  return (await loadActor(db, viewer.id, viewer.membershipId))!;
};
const greenIn = async (timeZone: string, serviceId?: string) => {
  const map = await siteMap(db, await viewerAs(timeZone), { range: week, serviceId });
  return map.sites.filter((s) => s.serviced).map((s) => s.name);
};

describe('serviced in the range', () => {
  it("lists only the viewer's own sites", async () => {
    const map = await siteMap(db, await viewerAs('Europe/London'), { range: week });
    expect(map.sites.map((s) => s.name)).toEqual(['A Depot', 'B Yard', 'D Store']);
  });

  it(
    'is green for a completed visit inside the range, and grey for one ending as it begins, one after it, ' +
      'or one not completed',
    async () => {
      expect(await greenIn('Europe/London')).toEqual(['B Yard']);
    },
  );

  it("follows the viewer's time zone: the same visits fall in a New York week differently", async () => {
    // B's visit of 24 Nov 01:00Z is still 23 Nov in New York; A's of 1 Dec 02:00Z is still 30 Nov there
    await setAccess({});
    const map = await siteMap(db, await viewerAs('America/New_York'), {
      range: { from: '2026-11-24', to: '2026-11-25' },
    });
    expect(map.sites.filter((s) => s.serviced).map((s) => s.name)).toEqual([]);
    expect(await greenIn('America/New_York')).toEqual(['A Depot', 'B Yard']); // B still green by its 27 Nov visit
    const firstDay = await siteMap(db, await viewerAs('America/New_York'), {
      range: { from: '2026-11-30', to: '2026-11-30' },
    });
    expect(firstDay.sites.filter((s) => s.serviced).map((s) => s.name)).toEqual(['A Depot']);
    const inLondon = await siteMap(db, await viewerAs('Europe/London'), {
      range: { from: '2026-11-24', to: '2026-11-24' },
    });
    expect(inLondon.sites.filter((s) => s.serviced).map((s) => s.name)).toEqual(['B Yard']);
    await viewerAs('Europe/London');
  });

  it('with a service chosen, is green only for visits of that service', async () => {
    expect(await greenIn('Europe/London', waste!.id)).toEqual(['B Yard']);
    expect(await greenIn('Europe/London', gritting!.id)).toEqual([]);
  });
});

describe('Live View permissions hide exactly what they name', () => {
  const q = `from=${week.from}&to=${week.to}`;
  const signedInViewer = () => signedInAgent(app, viewer.email, TEST_PASSWORD);
  const page = async (agent: supertest.Agent, path: string, htmx = false) => {
    const req = agent.get(path);
    if (htmx) req.set('HX-Request', 'true');
    return req;
  };

  it('shows everything with every permission on', async () => {
    await setAccess({});
    const { agent } = await signedInViewer();
    const res = await page(agent, `/sites/${siteB.id}?${q}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Services completed from 2026-11-24 to 2026-11-30');
    expect(res.text).toContain('Waste collection');
    expect(res.text).toContain('YH68 ZPE');
    expect(res.text).toContain(`/sites/${siteB.id}/pictures/${visitPicture!.id}`);
    expect(res.text).toContain('Pictures of the site');
    expect(res.text).toContain('Vehicle visits');
    expect((await agent.get(`/sites/${siteB.id}/pictures/${sitePicture!.id}`)).headers['content-type']).toBe(
      'image/png',
    );
    expect((await agent.get(`/sites?${q}`)).text).toContain('Highlight by service');
  });

  it('view jobs off: no services list, and its fragment and the service pictures answer 403', async () => {
    await setAccess({ view_jobs: false });
    const { agent } = await signedInViewer();
    const res = await page(agent, `/sites/${siteB.id}?${q}`);
    expect(res.text).not.toContain('Services completed');
    expect(res.text).toContain('Vehicle visits');
    expect(res.text).toContain('Pictures of the site');
    expect((await page(agent, `/sites/${siteB.id}/services?${q}`, true)).status).toBe(403);
    expect((await agent.get(`/sites/${siteB.id}/pictures/${visitPicture!.id}`)).status).toBe(403);
    expect((await agent.get(`/sites/${siteB.id}/pictures/${sitePicture!.id}`)).status).toBe(200);
  });

  it(
    'site pictures off: no gallery, and the gallery and a site picture answer 403; ' + 'the service pictures stay',
    async () => {
      await setAccess({ view_site_pictures: false });
      const { agent } = await signedInViewer();
      const res = await page(agent, `/sites/${siteB.id}?${q}`);
      expect(res.text).not.toContain('Pictures of the site');
      expect(res.text).toContain(`/sites/${siteB.id}/pictures/${visitPicture!.id}`);
      expect((await page(agent, `/sites/${siteB.id}/pictures`, true)).status).toBe(403);
      expect((await agent.get(`/sites/${siteB.id}/pictures/${sitePicture!.id}`)).status).toBe(403);
      expect((await agent.get(`/sites/${siteB.id}/pictures/${visitPicture!.id}`)).status).toBe(200);
    },
  );

  it('vehicle visits off: no vehicle anywhere, and the vehicle visits fragment answers 403', async () => {
    await setAccess({ view_vehicle_visits: false });
    const { agent } = await signedInViewer();
    const res = await page(agent, `/sites/${siteB.id}?${q}`);
    expect(res.text).not.toContain('YH68 ZPE');
    expect(res.text).not.toContain('Vehicle visits');
    expect(res.text).toContain('Waste collection');
    expect((await page(agent, `/sites/${siteB.id}/services?${q}`, true)).text).not.toContain('YH68 ZPE');
    expect((await page(agent, `/sites/${siteB.id}/vehicle-visits?${q}`, true)).status).toBe(403);
  });

  it('filter by service off: no service filter, and asking the map for one answers 403', async () => {
    await setAccess({ filter_by_service: false });
    const { agent } = await signedInViewer();
    const res = await agent.get(`/sites?${q}`);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('Highlight by service');
    expect((await page(agent, `/sites?${q}&service=${waste!.id}`, true)).status).toBe(403);
    await setAccess({});
    expect((await page(agent, `/sites?${q}&service=${waste!.id}`, true)).status).toBe(200);
  });

  it('service name off: the services are listed without their names', async () => {
    await setAccess({ view_service_name: false });
    const { agent } = await signedInViewer();
    const res = await page(agent, `/sites/${siteB.id}/services?${q}`, true);
    expect(res.status).toBe(200);
    expect(res.text).toContain('YH68 ZPE');
    expect(res.text).not.toContain('Waste collection');
  });

  it(
    'service pictures off: no pictures beside the services, ' + 'and a service picture answers 403; the gallery stays',
    async () => {
      await setAccess({ view_service_pictures: false });
      const { agent } = await signedInViewer();
      const res = await page(agent, `/sites/${siteB.id}?${q}`);
      expect(res.text).not.toContain(`/pictures/${visitPicture!.id}`);
      expect(res.text).toContain(`/pictures/${sitePicture!.id}`);
      expect((await agent.get(`/sites/${siteB.id}/pictures/${visitPicture!.id}`)).status).toBe(403);
    },
  );

  it('portal access off: the map and the site pages refuse, saying whom to ask', async () => {
    await setAccess({ enabled: false });
    const { agent } = await signedInViewer();
    const res = await agent.get('/sites');
    expect(res.status).toBe(403);
    expect(res.text).toContain('The site portal is switched off for Fleetco. Ask Sitewise Services to switch it on.');
    expect((await agent.get(`/sites/${siteB.id}`)).status).toBe(403);
    await setAccess({});
  });
});

describe('a site viewer reaches nothing outside their sites', () => {
  it(
    'gets 404 for a site of their customer not shared with them, ' + "and for another customer's site and its pictures",
    async () => {
      await setAccess({});
      const { agent } = await signedInAgent(app, viewer.email, TEST_PASSWORD);
      for (const site of [unshared, rivalSite]) {
        expect((await agent.get(`/sites/${site.id}`)).status).toBe(404);
        expect((await agent.get(`/sites/${site.id}/services`)).status).toBe(404);
        expect((await agent.get(`/sites/${site.id}/pictures`)).status).toBe(404);
      }
      // a picture id of a shared site, asked for under another site
      expect((await agent.get(`/sites/${unshared.id}/pictures/${sitePicture!.id}`)).status).toBe(404);
      expect((await agent.get(`/sites/${siteA.id}/pictures/${sitePicture!.id}`)).status).toBe(404);
      const map = await agent.get('/sites');
      expect(map.text).not.toContain('C Unshared');
      expect(map.text).not.toContain('Rival Site');
    },
  );
});

describe("staff: sites, visits, pictures and a viewer's sites", () => {
  const yard = [
    [-2.244, 53.48],
    [-2.2425, 53.48],
    [-2.2425, 53.481],
    [-2.244, 53.481],
    [-2.244, 53.48],
  ];

  it(
    'refuses a geofence that crosses itself with the message next to the field, ' +
      'and saves a good one attached to a customer',
    async () => {
      const { agent, csrf } = await signedInAgent(app, admin.email, TEST_PASSWORD);
      const bowTie = {
        type: 'Polygon',
        coordinates: [
          [
            [-2.244, 53.48],
            [-2.2425, 53.481],
            [-2.2425, 53.48],
            [-2.244, 53.481],
            [-2.244, 53.48],
          ],
        ],
      };
      const bad = await agent
        .post('/admin/sites')
        .type('form')
        .send({ _csrf: csrf, name: 'Crossed', geofence: JSON.stringify(bowTie), customer_id: fleetco.id });
      expect(bad.status).toBe(422);
      expect(bad.text).toMatch(/id="f-geofence-error">The outline crosses itself/);
      expect(await db('sites').where({ name: 'Crossed' }).first()).toBeUndefined();
      const good = await agent
        .post('/admin/sites')
        .type('form')
        .send({
          _csrf: csrf,
          name: 'New Yard',
          geofence: JSON.stringify({ type: 'Polygon', coordinates: [yard] }),
          customer_id: fleetco.id,
        });
      expect(good.status).toBe(303);
      const site = await db('sites').where({ name: 'New Yard' }).first();
      expect(site).toMatchObject({ customer_id: fleetco.id, min_latitude: 53.48, max_longitude: -2.2425 });
      expect((await agent.get(good.headers.location!)).text).toContain('Fleetco');
      const audit = await db('audit_log').where({ entity_type: 'site', entity_id: site.id }).first();
      expect(audit.action).toBe('site.created');
    },
  );

  it('lets a viewer be given only sites of their own customer', async () => {
    const { agent, csrf } = await signedInAgent(app, admin.email, TEST_PASSWORD);
    const userPage = `/admin/customers/${fleetco.id}/users/${viewer.id}`;
    const page = await agent.get(userPage);
    expect(page.text).toContain('C Unshared');
    expect(page.text).not.toContain('Rival Site');
    const refused = await agent
      .post(`${userPage}/sites`)
      .type('form')
      .send({ _csrf: csrf, site_ids: [siteA.id, rivalSite.id] });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('Choose only sites of this user&#39;s customer.');
    const saved = await agent
      .post(`${userPage}/sites`)
      .type('form')
      .send({ _csrf: csrf, site_ids: [siteA.id, siteB.id, siteD.id, unshared.id] });
    expect(saved.status).toBe(303);
    const map = await siteMap(db, (await loadActor(db, viewer.id, viewer.membershipId))!, { range: week });
    expect(map.sites.map((s) => s.name)).toEqual(['A Depot', 'B Yard', 'C Unshared', 'D Store']);
    await agent
      .post(`${userPage}/sites`)
      .type('form')
      .send({ _csrf: csrf, site_ids: [siteA.id, siteB.id, siteD.id] });
  });

  it(
    "records a visit by hand in the staff member's time zone, " + 'and refuses one that ends before it starts',
    async () => {
      const { agent, csrf } = await signedInAgent(app, admin.email, TEST_PASSWORD);
      await db('users').where({ id: admin.id }).update({ time_zone: 'America/New_York' });
      const bad = await agent.post(`/admin/sites/${siteD.id}/visits`).type('form').send({
        _csrf: csrf,
        vehicle: 'SF70 NWD',
        started_at: '2026-11-28T10:00',
        ended_at: '2026-11-28T09:00',
        completed: 'on',
      });
      expect(bad.status).toBe(422);
      expect(bad.text).toContain('The visit cannot end before it started.');
      const good = await agent.post(`/admin/sites/${siteD.id}/visits`).type('form').send({
        _csrf: csrf,
        service_id: gritting!.id,
        vehicle: 'SF70 NWD',
        started_at: '2026-11-28T10:00',
        ended_at: '2026-11-28T10:45',
        completed: 'on',
      });
      expect(good.status).toBe(303);
      const visit = await db('service_visits').where({ site_id: siteD.id, vehicle: 'SF70 NWD' }).first();
      expect(visit.started_at.toISOString()).toBe('2026-11-28T15:00:00.000Z');
      expect(await greenIn('Europe/London')).toEqual(['B Yard', 'D Store']);
      await db('service_visits').where({ id: visit.id }).del();
      await db('users').where({ id: admin.id }).update({ time_zone: 'UTC' });
    },
  );

  it('stores an uploaded PNG and refuses what is not a picture', async () => {
    const { agent, csrf } = await signedInAgent(app, admin.email, TEST_PASSWORD);
    const ok = await agent
      .post(`/admin/sites/${siteD.id}/pictures?caption=Front%20gate`)
      .set('X-CSRF-Token', csrf)
      .set('Content-Type', 'image/png')
      .send(png);
    expect(ok.status).toBe(303);
    const stored = await db('pictures').where({ site_id: siteD.id }).first();
    expect(stored).toMatchObject({ content_type: 'image/png', caption: 'Front gate', byte_size: png.length });
    const notPicture = await agent
      .post(`/admin/sites/${siteD.id}/pictures`)
      .set('X-CSRF-Token', csrf)
      .set('Content-Type', 'image/png')
      .send(Buffer.from('<svg onload="alert(1)"/>'));
    expect(notPicture.status).toBe(303);
    expect((await agent.get(`/admin/sites/${siteD.id}`)).text).toContain('Upload a PNG, JPEG or WebP picture.');
    expect(await db('pictures').where({ site_id: siteD.id }).count({ n: '*' }).first()).toEqual({ n: 1 });
  });
});

describe('login via link', () => {
  const userPage = `/admin/customers/${fleetco.id}/users/${viewer.id}`;
  const linkFrom = (html: string) =>
    /id="login-link-field" type="text" readonly value="[^"]*(\/link\/[A-Za-z0-9_-]+)"/.exec(html)?.[1];
  const staff = () => signedInAgent(app, admin.email, TEST_PASSWORD);

  it('opens the site map only, at once on a URL without the token, and shows staff its last use', async () => {
    const { agent, csrf } = await staff();
    const enabled = await agent.post(`${userPage}/login-link`).type('form').send({ _csrf: csrf });
    expect(enabled.status).toBe(200);
    expect(enabled.headers['cache-control']).toBe('no-store');
    const link = linkFrom(enabled.text)!;
    expect(link).toMatch(/^\/link\/[A-Za-z0-9_-]{43}$/);
    const row = await db('user_tokens')
      .where({ user_id: viewer.id, purpose: 'login_link' })
      .whereNull('revoked_at')
      .first();
    expect(row.token_hash).toHaveLength(32); // only the SHA-256 hash is kept
    expect(row.expires_at.toISOString()).toBe('2027-06-01T09:00:00.000Z');

    const visitor = supertest.agent(app);
    const opened = await visitor.get(link);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/sites');
    const map = await visitor.get('/sites');
    expect(map.status).toBe(200);
    expect(map.text).toContain('A Depot');
    expect(map.text).not.toContain('href="/settings"');
    // nothing else, not even the viewer's own settings
    for (const path of ['/settings', '/admin/customers', '/assets', '/groups', '/users', `/admin/sites/${siteA.id}`]) {
      expect((await visitor.get(path)).status, path).toBe(403);
    }
    const token = csrfFrom(map.text);
    expect((await visitor.post('/settings/profile').type('form').send({ _csrf: token, name: 'Hacked' })).status).toBe(
      403,
    );
    expect((await visitor.get(`/sites/${siteB.id}`)).status).toBe(200);
    expect((await visitor.post('/logout').type('form').send({ _csrf: token })).status).toBe(303);
    expect((await visitor.get('/sites')).status).toBe(303);

    const after = await agent.get(userPage);
    expect(after.text).toContain('Last used: 1 Dec 2026, 09:00 UTC');
  });

  it('refresh kills the old link at once; disable kills the new one', async () => {
    const { agent, csrf } = await staff();
    const first = linkFrom((await agent.post(`${userPage}/login-link`).type('form').send({ _csrf: csrf })).text)!;
    const opened = supertest.agent(app);
    expect((await opened.get(first)).status).toBe(303);
    expect((await opened.get('/sites')).status).toBe(200);
    const second = linkFrom((await agent.post(`${userPage}/login-link`).type('form').send({ _csrf: csrf })).text)!;
    expect(second).not.toBe(first);
    const old = await supertest(app).get(first);
    expect(old.status).toBe(404);
    expect(old.text).toContain('This link does not work');
    // and the session the old link opened has ended with it
    expect((await opened.get('/sites')).status).toBe(303);
    expect((await supertest(app).get(second)).status).toBe(303);
    expect((await agent.post(`${userPage}/login-link/delete`).type('form').send({ _csrf: csrf })).status).toBe(303);
    expect((await supertest(app).get(second)).status).toBe(404);
    expect((await agent.get(userPage)).text).toContain('Enable login via link');
  });

  it('expires 6 months after activation, naming whom to ask', async () => {
    const { agent, csrf } = await staff();
    const link = linkFrom((await agent.post(`${userPage}/login-link`).type('form').send({ _csrf: csrf })).text)!;
    clock.set('2027-06-01T08:59:00Z');
    expect((await supertest(app).get(link)).status).toBe(303);
    clock.set('2027-06-02T09:00:00Z');
    const res = await supertest(app).get(link);
    expect(res.status).toBe(410);
    expect(res.text).toContain('This link has expired');
    expect(res.text).toContain(
      'Ask <strong>Tess Admin &lt;tess@sitewise.test&gt; at Sitewise Services</strong> for a new link.',
    );
    clock.set('2026-12-01T09:00:00Z');
  });

  it('locks an address out after 30 links that do not exist', async () => {
    clock.set('2026-12-02T09:00:00Z');
    const from = supertest(app);
    for (let i = 0; i < 30; i++) await from.get(`/link/${'y'.repeat(40)}${String(i).padStart(3, '0')}`);
    const res = await from.get(`/link/${'z'.repeat(43)}`);
    expect(res.status).toBe(429);
    clock.set('2026-12-01T09:00:00Z');
  });
});
