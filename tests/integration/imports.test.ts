import { describe, expect, it } from 'vitest';
import { parseCsvRecords, importKind } from '../../src/services/integration/import-kinds.js';
import { writeImport } from '../../src/services/integration/csv-import.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeAsset, makeCustomer, makeSite, makeTenant, makeUser } from '../support/factories.js';

const { db } = await testDatabase();
const { app } = testApp({ db });
const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { account_id: 'IM-1' });
const assets = await Promise.all(
  Array.from({ length: 20 }, (_, i) =>
    makeAsset(db, { customer }, { identifier: `35777700000${String(i).padStart(4, '0')}` }),
  ),
);
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const support = await makeUser(db, { tenantId: tenant.id, role: 'support_agent' });

const locationsCsv = (rows: number, bad?: { line: number; latitude: string }) => {
  const lines = ['identifier,latitude,longitude,recorded_at'];
  for (let i = 0; i < rows; i++) {
    const line = i + 2;
    const latitude = bad?.line === line ? bad.latitude : (51 + i / 10_000).toFixed(5);
    const recordedAt = new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString();
    lines.push(`${assets[i % 20]!.identifier},${latitude},-0.1,${recordedAt}`);
  }
  return `${lines.join('\n')}\n`;
};
const locationCount = async () =>
  Number((await db('asset_locations').where({ tenant_id: tenant.id }).count({ n: '*' }).first())!.n);

async function upload(kind: string, csv: string, name = 'positions.csv') {
  const { agent, csrf } = await signedInAgent(app, admin.email, admin.password);
  // as the form sends it: the token in its address, since the body is read only after the token was checked
  const res = await agent
    .post(`/admin/imports?_csrf=${encodeURIComponent(csrf)}`)
    .field('kind', kind)
    .attach('file', Buffer.from(csv), name);
  return { agent, csrf, res };
}

describe('CSV import', () => {
  it('previews the problems of a file by line and column, and writes nothing', async () => {
    const { agent, res } = await upload('locations', locationsCsv(50, { line: 9, latitude: 'north' }));
    expect(res.status).toBe(303);
    const page = await agent.get(res.headers.location!);
    expect(page.text).toContain('The file has 1 problem: nothing was written');
    expect(page.text).toMatch(/<td>9<\/td><td><code>latitude<\/code><\/td><td>must be a number<\/td>/);
    expect(page.text).not.toContain('/run');
    expect(await locationCount()).toBe(0);
  });

  it('writes a checked file after confirmation, and its progress reaches every row', async () => {
    const { agent, csrf, res } = await upload('locations', locationsCsv(2500));
    const url = res.headers.location!;
    expect((await agent.get(url)).text).toContain('All 2,500 rows passed the checks');
    expect(await locationCount()).toBe(0);
    expect((await agent.post(`${url}/run`).type('form').send({ _csrf: csrf })).status).toBe(303);
    // a second click is refused: the import runs once
    expect((await agent.post(`${url}/run`).type('form').send({ _csrf: csrf })).status).toBe(409);
    await expect
      .poll(async () => (await agent.get(url).set('HX-Request', 'true')).text, { timeout: 20_000 })
      .toContain('2,500 of 2,500 rows written (100 %)');
    const fragment = await agent.get(url).set('HX-Request', 'true');
    expect(fragment.text).toMatch(/^<section id="import-progress"/);
    // finished: the fragment no longer polls
    expect(fragment.text).not.toContain('hx-trigger');
    expect(await locationCount()).toBe(2500);
  });

  it('shows a running import as a progress bar that polls itself', async () => {
    const { agent, res } = await upload('locations', locationsCsv(10));
    const id = res.headers.location!.split('/').pop()!;
    // started but not yet written (the writer is called by hand below)
    await db('data_imports').where({ id }).update({ status: 'running' });
    const running = await agent.get(res.headers.location!).set('HX-Request', 'true');
    expect(running.text).toContain('hx-trigger="every 1s"');
    expect(running.text).toMatch(/<progress id="import-bar" max="10" value="0">/);
    // a browser without JavaScript reloads the whole page instead, until the import is over
    const refresh = '<noscript><meta http-equiv="refresh" content="3"></noscript>';
    expect((await agent.get(res.headers.location!)).text).toContain(refresh);
    await writeImport(db, tenant.id, id, { batchSize: 3 });
    const done = (await agent.get(res.headers.location!)).text;
    expect(done).toContain('10 of 10 rows written (100 %)');
    expect(done).not.toContain('http-equiv="refresh"');
  });

  it('imports usage records through the same checks and writer as the API', async () => {
    const csv =
      'account_id,identifier,product,occurred_at,direction,status,' +
      'from_number,to_number,duration_seconds,price_minor\n' +
      `IM-1,${assets[0]!.identifier},voice,2026-11-20T10:00:00Z,outbound,answered,+441,+442,61,15\n` +
      'IM-1,,sms,2026-11-20T10:05:00Z,inbound,delivered,+443,+441,,2\n';
    const { agent, csrf, res } = await upload('usage-records', csv, 'usage.csv');
    expect((await agent.get(res.headers.location!)).text).toContain('All 2 rows passed the checks');
    await agent.post(`${res.headers.location!}/run`).type('form').send({ _csrf: csrf });
    await expect
      .poll(
        async () => Number((await db('usage_records').where({ tenant_id: tenant.id }).count({ n: '*' }).first())!.n),
        { timeout: 20_000 },
      )
      .toBe(2);
  });

  it(
    'imports service visits through the same checks and writer as the API, ' +
      'naming an unknown site or service by line',
    async () => {
      const site = await makeSite(db, tenant.id, { customerId: customer.id, name: 'Import depot' });
      await db('services').insert({ tenant_id: tenant.id, name: 'Gritting' });
      const other = await makeSite(db, (await makeTenant(db)).id);
      const header = 'site_id,service,vehicle,started_at,ended_at,completed,notes\n';
      const good =
        `${site.id},gritting,GR-1,2026-11-20T05:00:00Z,2026-11-20T05:30:00Z,yes,"Car park, both levels"\n` +
        `${site.id},,GR-2,2026-11-21T05:00:00Z,2026-11-21T05:20:00Z,no,\n`;
      const visits = async () =>
        Number((await db('service_visits').where({ tenant_id: tenant.id }).count({ n: '*' }).first())!.n);

      const refused = await upload(
        'service-visits',
        `${header}${good}` +
          `${other.id},Gritting,GR-3,2026-11-22T05:00:00Z,2026-11-22T05:10:00Z,,\n` +
          `${site.id},Mowing,GR-4,2026-11-22T05:00:00Z,2026-11-22T04:10:00Z,maybe,\n`,
        'visits.csv',
      );
      const page = (await refused.agent.get(refused.res.headers.location!)).text;
      // line 4: another tenant's site is unknown here; line 5: no such service, a time backwards, a yes/no
      // that is neither
      expect(page).toMatch(/<td>4<\/td><td><code>site_id<\/code><\/td><td>No site of yours has this id.<\/td>/);
      expect(page).toMatch(/<td>5<\/td><td><code>service<\/code><\/td><td>No service of yours has this name.<\/td>/);
      expect(page).toMatch(/<td>5<\/td><td><code>ended_at<\/code><\/td>/);
      expect(page).toMatch(/<td>5<\/td><td><code>completed<\/code><\/td>/);
      expect(await visits()).toBe(0);

      const { agent, csrf, res } = await upload('service-visits', `${header}${good}`, 'visits.csv');
      expect((await agent.get(res.headers.location!)).text).toContain('All 2 rows passed the checks');
      await agent.post(`${res.headers.location!}/run`).type('form').send({ _csrf: csrf });
      await expect.poll(visits, { timeout: 20_000 }).toBe(2);
      const rows = await db('service_visits')
        .where({ tenant_id: tenant.id })
        .orderBy('started_at')
        .select('vehicle', 'completed', 'notes', 'service_id', 'source');
      expect(rows.map((r) => [r.vehicle, r.completed, r.notes, !!r.service_id, r.source])).toEqual([
        ['GR-1', true, 'Car park, both levels', true, 'import'],
        ['GR-2', false, null, false, 'import'],
      ]);
    },
  );

  it('refuses a file whose header lacks a required column, next to the file field', async () => {
    const { res } = await upload('locations', 'identifier,latitude\n1,2\n');
    expect(res.status).toBe(422);
    expect(res.text).toContain('The header lacks the columns longitude, recorded_at.');
  });

  it(
    'refuses a file holding a NUL character, or with one in its ' + 'name, next to the file field, and keeps nothing',
    async () => {
      const before = await db('data_imports').count({ n: '*' }).first();
      const lines = locationsCsv(5).split('\n');
      lines[3] = lines[3]!.replace('-0.1', '-0.1\u0000');
      const csv = lines.join('\n');
      const { res } = await upload('locations', csv);
      expect(res.status).toBe(422);
      expect(res.text).toMatch(/id="f-file-error">The file holds a NUL character or an unpaired surrogate \(line 4\)/);
      // busboy refuses the part header itself: a form that cannot be read
      const named = await upload('locations', locationsCsv(5), 'positions\u0000.csv');
      expect(named.res.status).toBe(400);
      expect(await db('data_imports').count({ n: '*' }).first()).toEqual(before);
    },
  );

  it('reads quoted cells with commas and line breaks through the CSV library', () => {
    const records = parseCsvRecords(
      importKind('usage-records')!,
      'identifier,product,occurred_at,direction,status,from_number,to_number,content\n' +
        '"A,1",sms,2026-11-20T10:00:00Z,inbound,delivered,1,2,"two\nlines"\n',
    );
    expect(records[0]).toMatchObject({ identifier: 'A,1', product: 'sms', content: 'two\nlines' });
  });

  it('keeps imports to tenant admins', async () => {
    const { agent } = await signedInAgent(app, support.email, support.password);
    expect((await agent.get('/admin/imports')).status).toBe(403);
  });
});
