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

describe("a tenant admin reading the tenant's audit log", () => {
  it('opens it from the menu, filters it by customer and kind, and finds the export links', async () => {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Email address').fill('admin@demo.test');
    await page.getByLabel('Password').fill('portico-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${baseUrl}/admin/customers`);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL(`${baseUrl}/admin/audit`);
    await expect.poll(() => page.locator('tbody tr').count()).toBeGreaterThan(0);
    await expectUniqueIds(page);

    await page.getByLabel('Customer').selectOption({ label: 'Northwind Logistics' });
    await page.getByLabel('Kind of change').fill('customer');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL((url) => url.pathname === '/admin/audit' && url.searchParams.get('kind') === 'customer');
    const actions = await page.locator('tbody td code').allTextContents();
    expect(actions.every((a) => a.startsWith('customer.'))).toBe(true);
    expect(await page.getByRole('link', { name: /Download for auditors/ }).getAttribute('href')).toBe(
      '/admin/audit.jsonl',
    );
  });
});
