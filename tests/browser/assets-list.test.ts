import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { demoJourney, expectUniqueIds, signInThroughForm } from '../support/browser.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const { baseUrl, browser } = await demoJourney(NOW);

const signIn = async (email: string): Promise<Page> => signInThroughForm(await browser.newPage(), baseUrl, email);

const identifiers = (page: Page) => page.locator('#asset-table tbody th[scope="row"]').allTextContents();
/** Going back or forward, htmx restores the page from the server: wait until its first row is there. */
const firstRowShows = (page: Page, identifier: string) =>
  page.locator('#asset-table tbody th[scope="row"]').first().getByText(identifier, { exact: true }).waitFor();
/** Set on the document; it survives htmx swaps and disappears with a page load. */
const markDocument = (page: Page) =>
  page.evaluate(() => ((window as unknown as { listMarker: boolean }).listMarker = true));
const stillSameDocument = (page: Page) =>
  page.evaluate(() => (window as unknown as { listMarker?: boolean }).listMarker === true);

describe('a company admin browsing the asset list', () => {
  it('filters by tab, searches in place, pages forward and back, exports the page and opens an asset', async () => {
    const page = await signIn('owner@northwind.test');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Assets' }).click();
    await page.waitForURL(`${baseUrl}/assets`);
    await markDocument(page);

    const activeTab = page
      .getByRole('navigation', { name: 'Assets by status' })
      .getByRole('link', { name: /^Active \d+$/ });
    const activeCount = Number((await activeTab.locator('.count').textContent())!.replace(/,/g, ''));
    expect(activeCount).toBeGreaterThan(50);
    await activeTab.click();
    await page.waitForURL(`${baseUrl}/assets?tab=active`);
    await expect.poll(() => page.locator('[aria-current="page"]', { hasText: 'Active' }).count()).toBe(1);
    await expect(page.locator('#asset-table caption').textContent()).resolves.toBe(
      `Showing 25 of ${activeCount} assets in Active`,
    );
    await expectUniqueIds(page);

    await page.getByLabel('Search by identifier, name or group').pressSequentially('unit 1');
    await page.waitForURL((url) => url.searchParams.get('q') === 'unit 1' && url.searchParams.get('tab') === 'active');
    await expect.poll(async () => (await identifiers(page)).length).toBe(25);
    await expect(page.locator('#asset-table caption').textContent()).resolves.toContain('matching “unit 1” in Active');
    // the focus stayed in the search box: the polite live region says what the list now holds
    await expect
      .poll(() => page.locator('#swap-status[role="status"][aria-live="polite"]').textContent())
      .toBe('25 or more assets match “unit 1” in Active.');
    await expectUniqueIds(page);
    const firstPage = await identifiers(page);

    // from the keyboard: the Next link is swapped away with the page, so the focus goes to the list that came in
    await page.getByRole('link', { name: 'Next' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.searchParams.has('after'));
    await expect.poll(async () => (await identifiers(page))[0]).not.toBe(firstPage[0]);
    await expect.poll(() => page.evaluate(() => document.activeElement?.closest('#asset-list') !== null)).toBe(true);
    const secondPage = await identifiers(page);
    expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
    await expectUniqueIds(page);
    await page.getByRole('link', { name: 'Previous' }).click();
    await page.waitForURL((url) => url.searchParams.has('before'));
    await expect.poll(() => identifiers(page)).toEqual(firstPage);
    await expectUniqueIds(page);
    expect(await stillSameDocument(page)).toBe(true);
    // the address bar held each page: back returns to the second one
    await page.goBack();
    await page.waitForURL((url) => url.searchParams.has('after'));
    await firstRowShows(page, secondPage[0]!);
    expect(await identifiers(page)).toEqual(secondPage);
    await expectUniqueIds(page);
    await page.goForward();
    await page.waitForURL((url) => url.searchParams.has('before'));
    await firstRowShows(page, firstPage[0]!);
    expect(await identifiers(page)).toEqual(firstPage);
    await expectUniqueIds(page);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export this page (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('assets-active-2026-11-24.csv');
    const csv = await readFile((await download.path())!, 'utf8');
    const rows = csv.trimEnd().split('\n');
    expect(rows[0]!.startsWith('Identifier,Name,Group,Customer,Status,Plan')).toBe(true);
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(firstPage);

    await page.getByLabel('Rows per page').selectOption('10');
    await page.waitForURL(
      (url) =>
        url.searchParams.get('size') === '10' &&
        url.searchParams.get('q') === 'unit 1' &&
        !url.searchParams.has('before'),
    );
    await expect.poll(() => identifiers(page)).toEqual(firstPage.slice(0, 10));
    await expectUniqueIds(page);

    await page.locator('#asset-table tbody th[scope="row"] a').first().click();
    await page.waitForURL(/\/assets\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});

describe('a group supervisor browsing the asset list', () => {
  it('sees only the Trucks assets and no action buttons', async () => {
    const page = await signIn('viewer@northwind.test');
    await page.goto(`${baseUrl}/assets?size=100`);
    const groups = await page.locator('#asset-table tbody tr:not(.group-row) td:nth-child(3)').allTextContents();
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.every((g) => g === 'Trucks' || g.startsWith('Trucks / '))).toBe(true);
    const headers = await page.locator('#asset-table .group-row th').allTextContents();
    expect(headers).toEqual(['Trucks', 'Trucks / North', 'Trucks / South']);
    await expect(page.getByRole('link', { name: 'Request activation' }).count()).resolves.toBe(0);
    await expect(page.locator('main button:not([type="submit"])').count()).resolves.toBe(0);
    await expect(page.locator('main form[method="post"]').count()).resolves.toBe(0);
  });
});
