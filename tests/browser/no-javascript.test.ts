import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { demoJourney, signInThroughForm } from '../support/browser.js';

// The same journeys as with JavaScript, in a browser that runs no script: plain links and forms only.
const NOW = new Date('2026-11-24T09:00:00Z');
const { baseUrl, browser } = await demoJourney(NOW);

const signIn = async (email: string): Promise<Page> =>
  signInThroughForm(await browser.newPage({ javaScript: false }), baseUrl, email);
const identifiers = (page: Page) => page.locator('#asset-table tbody th[scope="row"]').allTextContents();

describe('a company admin whose browser runs no JavaScript', () => {
  it('signs in, and out again', async () => {
    const page = await signIn('owner@northwind.test');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/login');
    await page.goto(`${baseUrl}/assets`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('picks a tab, searches, pages forward, changes the page size and exports the page', async () => {
    const page = await signIn('owner@northwind.test');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Assets' }).click();
    await page.waitForURL(`${baseUrl}/assets`);
    await page.getByRole('link', { name: /^Active \d+$/ }).click();
    await page.waitForURL(`${baseUrl}/assets?tab=active`);
    await expect(page.locator('#asset-table caption').textContent()).resolves.toMatch(/^Showing 25 of [\d,]+ assets/);

    await page.getByLabel('Search by identifier, name or group').fill('unit 1');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL((url) => url.searchParams.get('q') === 'unit 1' && url.searchParams.get('tab') === 'active');
    await expect(page.locator('#asset-table caption').textContent()).resolves.toContain('matching “unit 1” in Active');
    const firstPage = await identifiers(page);
    expect(firstPage).toHaveLength(25);

    await page.getByRole('link', { name: 'Next' }).click();
    await page.waitForURL((url) => url.searchParams.has('after'));
    const secondPage = await identifiers(page);
    expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);

    await page.getByLabel('Rows per page').selectOption('10');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL((url) => url.searchParams.get('size') === '10' && url.searchParams.get('q') === 'unit 1');
    await expect(identifiers(page)).resolves.toHaveLength(10);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export this page (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^assets-active-2026-11-24\.csv$/);
  });
});
