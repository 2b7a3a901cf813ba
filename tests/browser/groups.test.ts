import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { testApp } from '../support/app.js';
import { expectUniqueIds, serve, useBrowser } from '../support/browser.js';
import { testDatabase } from '../support/db.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const { db } = await testDatabase();
await seedDemo(db, { now: NOW });

// a tile server of our own on another origin (tests never reach the network): every tile is one grey pixel
const TILE = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGM4ceEGAATUAnEXbFkMAAAAAElFTkSuQmCC',
  'base64',
);
const tileServer = await new Promise<http.Server>((resolve) => {
  const s = http.createServer((_req, res) =>
    res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' }).end(TILE),
  );
  s.listen(0, '127.0.0.1', () => resolve(s));
});
afterAll(() => new Promise<void>((resolve) => tileServer.close(() => resolve())));
const tileUrl = `http://127.0.0.1:${(tileServer.address() as AddressInfo).port}/{z}/{x}/{y}.png`;

const { app } = testApp({ db, clock: fixedClock(NOW), env: { MAP_TILE_URL: tileUrl } });
const { baseUrl } = await serve(app);
// the same portal with no tiles configured: the markers must still be drawn
const { baseUrl: noTilesUrl } = await serve(testApp({ db, clock: fixedClock(NOW), env: { MAP_TILE_URL: 'none' } }).app);
const browser = useBrowser();
const northwind = demoId('customer:northwind');
const trucks = demoId('group:trucks');

async function signIn(email: string, at = baseUrl): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${at}/login`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill('portico-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
  return page;
}

/** Devices of Trucks and its sub-groups with a last position: one marker each. */
async function locatedInTrucks(): Promise<number> {
  const row = await db('assets')
    .whereIn(
      'group_id',
      db('groups')
        .where({ customer_id: northwind })
        .where((w) => w.where('id', trucks).orWhere('parent_id', trucks))
        .select('id'),
    )
    .whereNotNull('last_latitude')
    .count({ n: '*' })
    .first();
  return Number(row!.n);
}

describe('a company admin organising groups', () => {
  it(
    'creates a group and a sub-group, moves an asset into it, and assigns a user with the type-ahead, ' +
      'then removes them',
    async () => {
      const page = await signIn('owner@northwind.test');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).click();
      await page.waitForURL(`${baseUrl}/groups`);

      // "Create group" opens a dialog on the same page
      await page.getByRole('link', { name: 'Create group' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create a group' });
      await dialog.waitFor();
      expect(page.url()).toBe(`${baseUrl}/groups`);
      await dialog.getByLabel('Name').fill('Reefers');
      await dialog.getByLabel('Reference (optional)').fill('COLD-1');
      await dialog.getByRole('button', { name: 'Create group' }).click();
      await page.waitForURL(/\/groups\/[0-9a-f-]{36}$/);
      await expect(page.locator('#alerts').textContent()).resolves.toContain('Group Reefers created.');
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Reefers');

      const reefersUrl = page.url();
      await page.getByRole('link', { name: 'Create sub-group' }).click();
      const subDialog = page.getByRole('dialog', { name: 'Create a sub-group of Reefers' });
      await subDialog.getByLabel('Name').fill('Cold chain');
      await subDialog.getByRole('button', { name: 'Create sub-group' }).click();
      await page.waitForURL((url) => url.href !== reefersUrl);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Reefers / Cold chain');
      const sub = (await db('groups')
        .where({ customer_id: northwind, path: 'Reefers / Cold chain' })
        .first<{ id: string }>())!;
      expect(page.url()).toBe(`${baseUrl}/groups/${sub.id}`);
      await page.getByText('No assets yet.').waitFor();

      // the asset's own page moves it
      const van = (await db('assets')
        .where({ group_id: demoId('group:vans'), status: 'active' })
        .orderBy('identifier')
        .first<{ id: string; identifier: string }>())!;
      await page.goto(`${baseUrl}/assets/${van.id}`);
      await page.getByLabel('Move to group').selectOption(sub.id);
      await page.getByRole('button', { name: 'Move' }).click();
      await page.waitForURL(`${baseUrl}/assets/${van.id}`);
      // that is the URL the asset page already had: wait for the page the move answers with
      await page.locator('#alerts').getByText('Moved to Reefers / Cold chain.').waitFor();
      await expect(page.locator('#alerts').textContent()).resolves.toContain('Moved to Reefers / Cold chain.');
      await page.goto(`${baseUrl}/groups/${sub.id}`);
      await expect(page.locator('#asset-table tbody th[scope="row"]').allTextContents()).resolves.toEqual([
        van.identifier,
      ]);

      // the type-ahead offers Finn; a click makes a chip; nothing is saved until Submit
      const users = page.locator('#group-users');
      const status = page.locator('#group-users [role="status"].alert');
      await users.getByLabel('Add a user').fill('fin');
      const finn = users.getByRole('button', { name: /Finn Fleet/ });
      await finn.waitFor();
      await expectUniqueIds(page);
      await finn.click();
      await users.getByRole('button', { name: 'Remove Finn Fleet' }).waitFor();
      expect(await db('membership_groups').where({ group_id: sub.id }).count({ n: '*' }).first()).toEqual({ n: 0 });
      await users.getByRole('button', { name: 'Submit' }).click();
      await status.filter({ hasText: 'Saved. Added Finn Fleet.' }).waitFor();
      await expect(status.textContent()).resolves.toContain('Saved. Added Finn Fleet.');
      await expectUniqueIds(page);
      expect(page.url()).toBe(`${baseUrl}/groups/${sub.id}`);
      await expect(page.locator('#group-users .chips').textContent()).resolves.toContain('Finn Fleet');
      expect(await db('membership_groups').where({ group_id: sub.id }).select('membership_id')).toEqual([
        { membership_id: demoId('membership:fleet@northwind.test') },
      ]);

      // removing: the chip goes at once, the assignment only on Submit
      await page.locator('#group-users').getByRole('button', { name: 'Remove Finn Fleet' }).click();
      await expect(page.locator('#group-users .chips li').count()).resolves.toBe(0);
      expect(await db('membership_groups').where({ group_id: sub.id }).count({ n: '*' }).first()).toEqual({ n: 1 });
      await page.locator('#group-users').getByRole('button', { name: 'Submit' }).click();
      await status.filter({ hasText: 'Removed Finn Fleet.' }).waitFor();
      await expect(status.textContent()).resolves.toContain('Removed Finn Fleet.');
      await expectUniqueIds(page);
      await page.locator('#group-users').getByText('No users assigned.').waitFor();
      expect(await db('membership_groups').where({ group_id: sub.id }).count({ n: '*' }).first()).toEqual({ n: 0 });
    },
  );

  it(
    'opens the map of a group in a dialog with one marker per located device, ' +
      'each naming the device and its time of fix',
    async () => {
      const page = await signIn('owner@northwind.test');
      await page.goto(`${baseUrl}/groups`);
      const expected = await locatedInTrucks();
      expect(expected).toBeGreaterThan(0);
      await page.getByRole('link', { name: 'Map of Trucks', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Map of Trucks' });
      await dialog.waitFor();
      // Leaflet and the devices come from the server first: wait for the last marker, then count them all
      await dialog
        .locator('.leaflet-marker-icon')
        .nth(expected - 1)
        .waitFor({ state: 'attached' });
      await expect(dialog.locator('.leaflet-marker-icon').count()).resolves.toBe(expected);
      // the tiles came from the configured server, under the Content-Security-Policy
      await dialog.locator('img.leaflet-tile-loaded').first().waitFor({ state: 'attached' });
      await expect(dialog.locator('img.leaflet-tile-loaded').count()).resolves.toBeGreaterThan(0);
      await expect(dialog.locator('[data-map-list] li').count()).resolves.toBe(expected);
      // markers can overlap: the click goes to the marker itself, wherever its neighbours are drawn
      await dialog.locator('.leaflet-marker-icon').first().dispatchEvent('click');
      const popup = await dialog.locator('.leaflet-popup-content').textContent();
      expect(popup).toMatch(/^Unit \d{3}Position at \d{1,2} Nov 2026, \d{2}:\d{2} GMT$/);
      await dialog.getByRole('button', { name: 'Close', exact: true }).click();
      await expect(dialog.isVisible()).resolves.toBe(false);
      // the focus goes back to the link that opened the map
      await expect(page.evaluate(() => document.activeElement?.textContent?.trim())).resolves.toBe('Map of Trucks');
    },
  );

  it('draws the markers on the map page even with no tiles to load', async () => {
    const page = await signIn('owner@northwind.test', noTilesUrl);
    await page.goto(`${noTilesUrl}/groups/${trucks}/map`);
    const expected = await locatedInTrucks();
    await page
      .locator('.leaflet-marker-icon')
      .nth(expected - 1)
      .waitFor({ state: 'attached' });
    await expect(page.locator('.leaflet-marker-icon').count()).resolves.toBe(expected);
    await expect(page.locator('.leaflet-tile').count()).resolves.toBe(0);
    await expect(page.locator('.map-devices li').count()).resolves.toBe(expected);
  });
});

describe('a keyboard user in a group dialog', () => {
  /** What has the focus: the element's accessible role and text, and whether it is inside the open dialog. */
  const focused = (page: Page) =>
    page.evaluate(() => {
      // nothing of the page (the browser's own controls) has it when activeElement is the body
      const el = document.activeElement === document.body ? null : document.activeElement;
      return { text: el?.textContent?.trim() || el?.id || '', inDialog: Boolean(el?.closest('dialog[open]')) };
    });

  it('moves the focus into the dialog, keeps it there, and returns it to the link that opened it', async () => {
    const page = await signIn('owner@northwind.test');
    await page.goto(`${baseUrl}/groups`);
    const opener = page.getByRole('link', { name: 'Create group' });
    await opener.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Create a group' });
    await dialog.waitFor();
    await expect(focused(page)).resolves.toMatchObject({ inDialog: true });
    // the page behind a modal dialog is inert: going backwards from the first field never leaves the dialog
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Shift+Tab');
      const now = await focused(page);
      if (now.text) expect(now.inDialog, `focus on "${now.text}" outside the dialog`).toBe(true);
    }
    await page.keyboard.press('Escape');
    await expect(dialog.isVisible()).resolves.toBe(false);
    await expect(focused(page)).resolves.toEqual({ text: 'Create group', inDialog: false });

    // Cancel closes it too, and the focus comes back all the same
    await opener.focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog.isVisible()).resolves.toBe(false);
    await expect(focused(page)).resolves.toEqual({ text: 'Create group', inDialog: false });
  });
});

describe('a group supervisor on the groups pages', () => {
  it('sees the groups and their users but no control that changes them', async () => {
    const page = await signIn('viewer@northwind.test');
    await page.goto(`${baseUrl}/groups`);
    await page.getByRole('link', { name: 'Trucks', exact: true }).waitFor();
    await expect(page.getByRole('link', { name: 'Create group' }).count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: /^Edit/ }).count()).resolves.toBe(0);
    await page.goto(`${baseUrl}/groups/${trucks}`);
    await expect(page.locator('#group-users').textContent()).resolves.toContain('Vera Viewer');
    for (const name of ['Edit group', 'Create sub-group'])
      await expect(page.getByRole('link', { name }).count()).resolves.toBe(0);
    await expect(page.locator('#group-users button, #group-users input, #group-users select').count()).resolves.toBe(0);
  });
});

describe('a customer whose map is switched off', () => {
  it('has no map button, and the map page answers 403', async () => {
    const admin = await signIn('admin@demo.test');
    await admin.goto(`${baseUrl}/admin/customers/${northwind}`);
    await admin.getByRole('button', { name: 'Switch the map off' }).click();
    await expect(admin.locator('#alerts').textContent()).resolves.toContain(
      'The devices map is off for Northwind Logistics.',
    );

    const page = await signIn('owner@northwind.test');
    await page.goto(`${baseUrl}/groups/${trucks}`);
    await expect(page.getByRole('link', { name: 'Map', exact: true }).count()).resolves.toBe(0);
    const res = await page.goto(`${baseUrl}/groups/${trucks}/map`);
    expect(res!.status()).toBe(403);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Not allowed');
  });
});
