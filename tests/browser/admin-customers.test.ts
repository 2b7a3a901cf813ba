import { describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo/data.js';
import { testApp } from '../support/app.js';
import { expectUniqueIds, serve, useBrowser } from '../support/browser.js';
import { testDatabase } from '../support/db.js';

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db });
const { baseUrl } = await serve(app);
const browser = useBrowser();

const customerTitles = (page: Awaited<ReturnType<typeof browser.newPage>>) =>
  page.locator('#customer-table tbody th[scope="row"]').allTextContents();

describe('a tenant admin administering customers', () => {
  it('searches the list in place, creates a customer through the form, and deletes it by typing its name', async () => {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Email address').fill('admin@demo.test');
    await page.getByLabel('Password').fill('portico-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${baseUrl}/admin/customers`);
    expect(await customerTitles(page)).toContain('Acme Field Services');

    // the table is swapped by htmx: a marker set on this document survives the search
    await page.evaluate(() => ((window as unknown as { searchMarker: boolean }).searchMarker = true));
    await page.getByLabel('Search by title or account ID').pressSequentially('north');
    await page.waitForURL((url) => url.searchParams.get('q') === 'north');
    await expect.poll(() => customerTitles(page)).toEqual(['Northwind Logistics', 'Northwind South']);
    await expect.poll(() => page.locator('#swap-status').textContent()).toBe('2 customers match “north”.');
    await expectUniqueIds(page);
    expect(await page.evaluate(() => (window as unknown as { searchMarker?: boolean }).searchMarker)).toBe(true);

    await page.getByRole('link', { name: 'New customer' }).click();
    await page.waitForURL(`${baseUrl}/admin/customers/new`);
    await page.getByLabel('Title', { exact: true }).fill('Lighthouse Logistics');
    await page.getByLabel('Account ID').fill('LH-1');
    await page.getByLabel('Home page').selectOption({ label: 'Sites' });
    await page.getByRole('button', { name: 'Create customer' }).click();
    await page.waitForURL(/\/admin\/customers\/[0-9a-f-]{36}$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Lighthouse Logistics');
    await expect(page.locator('#alerts').textContent()).resolves.toContain('Customer Lighthouse Logistics created.');

    await page.getByRole('link', { name: 'Delete customer' }).click();
    await page.waitForURL(/\/delete$/);
    await page.getByLabel('name to confirm').fill('Lighthouse Logistics');
    await page.getByRole('button', { name: 'Delete customer permanently' }).click();
    await page.waitForURL(`${baseUrl}/admin/customers`);
    await expect(page.locator('#alerts').textContent()).resolves.toContain('Customer Lighthouse Logistics deleted.');
    expect(await customerTitles(page)).not.toContain('Lighthouse Logistics');
    expect(await customerTitles(page)).toContain('Acme Field Services');
  });
});
