import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { intervalOf } from '../../src/services/sites/rules.js';
import { addDays } from '../../src/services/assets/subscription-rules.js';
import { testApp } from '../support/app.js';
import { expectUniqueIds, serve, signInThroughForm, useBrowser } from '../support/browser.js';
import { testDatabase } from '../support/db.js';
import { makeSite } from '../support/factories.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const { db } = await testDatabase();
await seedDemo(db, { now: NOW });
const clock = fixedClock(NOW);
// no tiles (tests never reach the network): the geofences must still be drawn
const { app } = testApp({ db, clock, env: { MAP_TILE_URL: 'none' } });
const { baseUrl } = await serve(app);
const browser = useBrowser();
const [northwind, viewer] = [demoId('customer:northwind'), demoId('user:sites@northwind.test')];
const viewerPage = `${baseUrl}/admin/customers/${northwind}/users/${viewer}`;

/** The viewer's sites and, from the visits themselves, which were serviced in the last 7 days of their zone. */
async function expectedSites(): Promise<{ id: string; name: string; serviced: boolean }[]> {
  const today = '2026-11-24';
  const { start, end } = intervalOf({ from: addDays(today, -6), to: today }, 'Europe/London');
  const rows = (await db('sites as s')
    .join('membership_sites as ms', 'ms.site_id', 's.id')
    .where('ms.membership_id', demoId('membership:sites@northwind.test'))
    .orderBy('s.name')
    .select(
      's.id',
      's.name',
      db.raw(
        `exists (select 1 from service_visits v
                  where v.site_id = s.id and v.completed and v.started_at < ? and v.ended_at > ?) as serviced`,
        [end, start],
      ),
    )) as { id: string; name: string; serviced: boolean }[];
  return rows;
}

async function enableOrRefresh(page: Page, button: 'Enable login via link' | 'Refresh the link'): Promise<string> {
  await page.goto(viewerPage);
  await page.getByRole('button', { name: button }).click();
  const field = page.getByLabel('Login link');
  await field.waitFor();
  await page.getByRole('button', { name: 'Copy' }).click();
  // the clipboard answers asynchronously: wait for the status to say what happened
  await page
    .locator('[data-copy-status]')
    .filter({ hasText: /Copied|selected/ })
    .waitFor();
  // the link names the configured BASE_URL; the test's server listens elsewhere
  return (await field.inputValue()).replace(/^http:\/\/localhost:3000/, baseUrl);
}

describe('login via link', () => {
  it(
    "staff enable a link and copy it; it opens the viewer's map only, " +
      'green where the visits say; refresh and expiry refuse it',
    async () => {
      const staff = await signInThroughForm(await browser.newPage(), baseUrl, 'admin@demo.test');
      const link = await enableOrRefresh(staff, 'Enable login via link');
      expect(link).toMatch(new RegExp(`^${baseUrl}/link/[A-Za-z0-9_-]{43}$`));

      // a fresh browser: the link signs in and lands at once on a URL without the token
      const visitor = await browser.newPage();
      await visitor.goto(link);
      await visitor.waitForURL(`${baseUrl}/sites`);
      expect(visitor.url()).not.toContain('/link/');
      const expected = await expectedSites();
      expect(expected.map((s) => s.name)).toEqual(['Piccadilly Yard', 'Trafford Park Depot']);
      expect(expected.some((s) => s.serviced) && expected.some((s) => !s.serviced)).toBe(true);
      const listed = visitor.getByRole('region', { name: 'Sites' }).locator('.site-item');
      await expect(listed.count()).resolves.toBe(expected.length);
      for (const site of expected) {
        const item = visitor.locator(`.site-item[data-site-id="${site.id}"]`);
        await expect(item.locator('.badge').textContent()).resolves.toBe(site.serviced ? 'Serviced' : 'Not serviced');
        // the geofence on the map, drawn with no tiles, green or grey to match
        const shape = visitor.locator(`path.geofence-site-${site.id}`);
        await shape.waitFor();
        await expect(shape.getAttribute('class')).resolves.toContain(
          site.serviced ? 'geofence-serviced' : 'geofence-idle',
        );
      }
      await expect(visitor.locator('path.geofence').count()).resolves.toBe(expected.length);
      // the link session reaches nothing but the map
      const settings = await visitor.goto(`${baseUrl}/settings`);
      expect(settings?.status()).toBe(403);

      // staff see the use, then refresh: the old link is refused at once
      await staff.goto(viewerPage);
      await expect(staff.locator('.last-use').textContent()).resolves.toContain('24 Nov 2026, 09:00');
      const fresh = await enableOrRefresh(staff, 'Refresh the link');
      expect(fresh).not.toBe(link);
      const stale = await browser.newPage();
      await stale.goto(link);
      await expect(stale.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This link does not work');

      // six months and a day later the new link is refused, saying whom to ask
      clock.set('2027-05-25T09:00:00Z');
      const late = await browser.newPage();
      await late.goto(fresh);
      await expect(late.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This link has expired');
      await expect(late.locator('main').textContent()).resolves.toContain(
        'Ask Dana Admin <admin@demo.test> at Demo Telematics for a new link.',
      );
      clock.set(NOW);
    },
  );
});

describe('the site map', () => {
  it("changes the date range in place, keeping the address bar, and opens a site's completed services", async () => {
    const page = await signInThroughForm(await browser.newPage(), baseUrl, 'sites@northwind.test');
    await page.waitForURL(`${baseUrl}/sites`);
    await page.getByLabel('From').fill('2026-11-10');
    await page.getByLabel('To').fill('2026-11-16');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/\/sites\?from=2026-11-10&to=2026-11-16/);
    await expect(page.locator('.site-summary').textContent()).resolves.toContain(
      '2 of 2 sites serviced from 2026-11-10 to 2026-11-16',
    );
    await page.locator('path.geofence-serviced').first().waitFor();
    await expect
      .poll(() => page.locator('#swap-status').textContent())
      .toBe('2 of 2 sites serviced from 2026-11-10 to 2026-11-16.');
    await expectUniqueIds(page);
    await page.getByRole('link', { name: 'Piccadilly Yard' }).click();
    await page.waitForURL(/\/sites\/[0-9a-f-]{36}\?from=2026-11-10&to=2026-11-16/);
    await page.getByRole('heading', { name: 'Services completed from 2026-11-10 to 2026-11-16' }).waitFor();
    await expect(page.locator('#site-services tbody tr').count()).resolves.toBeGreaterThan(0);
    await page.locator('#site-services img').first().waitFor();
  });
});

describe("a site's name on the map", () => {
  it('shows markup in a site name as text in the tooltip, creating no element', async () => {
    const name = '<img src=x onerror=alert(1)>';
    const site = await makeSite(db, demoId('tenant:demo'), {
      name,
      customerId: demoId('customer:northwind'),
      centre: [-2.3, 53.47],
    });
    await db('membership_sites').insert({
      tenant_id: site.tenant_id,
      membership_id: demoId('membership:sites@northwind.test'),
      site_id: site.id,
    });
    const page = await signInThroughForm(await browser.newPage(), baseUrl, 'sites@northwind.test');
    await page.waitForURL(`${baseUrl}/sites`);
    await page.locator(`path.geofence-site-${site.id}`).hover({ force: true });
    const tooltip = page.locator('.leaflet-tooltip');
    await tooltip.waitFor();
    await expect(tooltip.textContent()).resolves.toBe(`${name}: not serviced in these dates`);
    await expect(page.locator('.site-map img').count()).resolves.toBe(0);
  });
});
