import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { demoId } from '../../src/demo/data.js';
import { demoJourney, signInThroughForm } from '../support/browser.js';

// Staff, site, partner and billing journeys in a browser that runs no script, reaching what the
// JavaScript journeys reach (activation, sites, partner-view and billing.test.ts).
const NOW = new Date('2026-11-24T09:00:00Z');
const { baseUrl, browser } = await demoJourney(NOW);
const northwind = demoId('customer:northwind');

const signIn = async (email: string): Promise<Page> =>
  signInThroughForm(await browser.newPage({ javaScript: false }), baseUrl, email);
const csvLines = async (page: Page, click: () => Promise<void>) => {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  const lines = (await readFile((await download.path())!, 'utf8')).trim().split('\n');
  return { filename: download.suggestedFilename(), lines };
};

describe('a tenant admin whose browser runs no JavaScript', () => {
  it('creates a customer and a user with a displayed link, shown as text to copy and no dead Copy button', async () => {
    const page = await signIn('admin@demo.test');
    await page.waitForURL(`${baseUrl}/admin/customers`);
    await page.getByRole('link', { name: 'New customer' }).click();
    await page.waitForURL(`${baseUrl}/admin/customers/new`);
    await page.getByLabel('Title', { exact: true }).fill('Harbour Hauliers');
    await page.getByLabel('Account ID').fill('HH-1');
    await page.getByRole('button', { name: 'Create customer' }).click();
    await page.waitForURL(/\/admin\/customers\/[0-9a-f-]{36}$/);
    await expect(page.locator('#alerts').textContent()).resolves.toContain('Customer Harbour Hauliers created.');

    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('link', { name: 'Add user' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Hana Harbour');
    await page.getByLabel('Email address').fill('hana@harbour.test');
    await page.getByLabel('Role', { exact: true }).selectOption('company_admin');
    await page.getByLabel('Activation method').selectOption('link');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('heading', { level: 2, name: /Hana Harbour was added/ }).waitFor();
    const link = await page.getByRole('textbox', { name: 'Activation link' }).inputValue();
    expect(link).toMatch(/\/activate\/[A-Za-z0-9_-]+$/);
    await expect(page.getByRole('button', { name: 'Copy' }).count()).resolves.toBe(0);
    await expect(page.locator('#activation-link-hint').innerText()).resolves.toBe(
      'Select the link and copy it. It is not shown again: showing a new one replaces it.',
    );

    // the link works in a browser without scripts too
    const person = await browser.newPage({ javaScript: false });
    await person.goto(link.replace(/^https?:\/\/[^/]+/, baseUrl));
    await person.getByLabel('New password', { exact: true }).fill('a slow boat in the fog');
    await person.getByLabel('Repeat the new password').fill('a slow boat in the fog');
    await person.getByRole('button', { name: 'Activate account' }).click();
    await person.waitForURL(`${baseUrl}/`);
    await expect(person.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Harbour Hauliers');
  });

  it('changes the range of call summaries and downloads them as CSV', async () => {
    const page = await signIn('admin@demo.test');
    await page.goto(`${baseUrl}/admin/customers/${northwind}/billing/summaries`);
    // the cell selection tools need a script: none of their buttons is shown
    await expect(page.getByRole('button', { name: 'Export table (CSV)' }).count()).resolves.toBe(0);
    await page.getByLabel('From (UTC)').fill('2026-11-01');
    await page.getByLabel('To (UTC)').fill('2026-11-10');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(
      (url) => url.searchParams.get('from') === '2026-11-01' && url.searchParams.get('to') === '2026-11-10',
    );
    const days = await page.locator('table[data-cell-table] tbody tr th').allTextContents();
    expect(days.length).toBeGreaterThan(0);
    const { filename, lines } = await csvLines(page, () =>
      page.getByRole('link', { name: 'Download this table as CSV' }).click(),
    );
    expect(filename).toMatch(/\.csv$/);
    expect(lines[0]).toMatch(/^Period \(UTC\),/);
    // a line per day of the table, the same days
    for (const day of days)
      expect(
        lines.some((l) => l.startsWith(`${day},`)),
        day,
      ).toBe(true);
  });
});

describe('a site viewer whose browser runs no JavaScript', () => {
  it('sees the list of sites with their state in words, and changes the date range', async () => {
    const page = await signIn('sites@northwind.test');
    await page.waitForURL(`${baseUrl}/sites`);
    // the map needs a script, and says so; the list beside it names every site and its state
    await expect(page.locator('.map-noscript').innerText()).resolves.toContain('The map needs JavaScript');
    await page.getByLabel('From').fill('2026-11-10');
    await page.getByLabel('To').fill('2026-11-16');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/\/sites\?from=2026-11-10&to=2026-11-16/);
    await expect(page.locator('.site-summary').textContent()).resolves.toContain(
      '2 of 2 sites serviced from 2026-11-10 to 2026-11-16',
    );
    await expect(page.locator('.site-item .badge').allTextContents()).resolves.toEqual(['Serviced', 'Serviced']);
    await page.getByRole('link', { name: 'Piccadilly Yard' }).click();
    await page.waitForURL(/\/sites\/[0-9a-f-]{36}\?from=2026-11-10&to=2026-11-16/);
    await page.getByRole('heading', { name: 'Services completed from 2026-11-10 to 2026-11-16' }).waitFor();
    await expect(page.locator('#site-services tbody tr').count()).resolves.toBeGreaterThan(0);
  });
});

describe('a partner viewer whose browser runs no JavaScript', () => {
  it("searches customers, filters a customer's usage, pages to older records and exports CSV", async () => {
    const page = await signIn('partner@bluewave.test');
    await page.waitForURL(`${baseUrl}/partner/customers`);
    await page.getByLabel('Search by name or account ID').fill('NW-1001');
    await page.getByLabel('Search by name or account ID').press('Enter');
    await page.waitForURL((url) => url.searchParams.get('q') === 'NW-1001');
    await expect(page.locator('#partner-customer-table tbody th').allTextContents()).resolves.toEqual([
      'Northwind Logistics',
    ]);
    await page.getByRole('link', { name: 'Northwind Logistics' }).click();
    await page.waitForURL(`${baseUrl}/partner/customers/${northwind}`);
    await page.getByRole('navigation', { name: 'Northwind Logistics' }).getByRole('link', { name: 'SMS' }).click();
    await page.waitForURL(`${baseUrl}/partner/customers/${northwind}/usage/sms`);

    await page.getByLabel('From', { exact: true }).fill('2026-11-01');
    await page.getByLabel('To', { exact: true }).fill('2026-11-21');
    await page.getByLabel('Rows per page').selectOption('10');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(
      (url) => url.searchParams.get('from') === '2026-11-01' && url.searchParams.get('size') === '10',
    );
    await expect(page.locator('#usage-chart-heading').textContent()).resolves.toBe(
      'Daily volume and spend, 2026-11-01 to 2026-11-21',
    );
    const times = () =>
      page.locator('#usage-log tbody time').evaluateAll((els) => els.map((e) => e.getAttribute('datetime')!));
    const first = await times();
    expect(first).toHaveLength(10);
    await page.getByRole('link', { name: 'Older' }).click();
    await page.waitForURL((url) => url.searchParams.has('after') && url.searchParams.get('size') === '10');
    const older = await times();
    expect(older.length).toBeGreaterThan(0);
    expect(older[0]! <= first[first.length - 1]!).toBe(true);

    const { filename, lines } = await csvLines(page, () => page.getByRole('link', { name: 'Export CSV' }).click());
    expect(filename).toBe('usage-NW-1001-sms-2026-11-01-to-2026-11-21.csv');
    expect(lines[0]).toBe('Time (Europe/London),Direction,Status,From,To,Duration (s),Units,Price (GBP)');
  });
});
