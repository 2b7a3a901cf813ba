import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { demoId } from '../../src/demo/data.js';
import { DEMO_CONTACT_NAMES } from '../../src/demo/usage.js';
import { demoJourney, expectUniqueIds, signInThroughForm } from '../support/browser.js';
import { makeCustomer, makePartner, makeUser, TEST_PASSWORD } from '../support/factories.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const { db, baseUrl, browser } = await demoJourney(NOW);
const northwind = demoId('customer:northwind');

describe("a partner viewer looking at a customer's usage", () => {
  it(
    'searches by account ID, opens Northwind, sees only its enabled products, opens SMS, ' +
      'filters by date and exports CSV',
    async () => {
      const page = await signInThroughForm(await browser.newPage(), baseUrl, 'partner@bluewave.test');
      await page.waitForURL(`${baseUrl}/partner/customers`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Manage customers');
      await expect.poll(() => page.locator('#partner-customer-table tbody tr').count()).toBe(2);

      await page.getByLabel('Search by name or account ID').pressSequentially('NW-1001');
      await page.waitForURL((url) => url.searchParams.get('q') === 'NW-1001');
      await expect
        .poll(() => page.locator('#partner-customer-table tbody th').allTextContents())
        .toEqual(['Northwind Logistics']);
      await expect.poll(() => page.locator('#swap-status').textContent()).toBe('1 customer matches “NW-1001”.');
      await expectUniqueIds(page);
      const row = page.locator('#partner-customer-table tbody tr');
      await expect(row.locator('.product-icon .visually-hidden').allTextContents()).resolves.toEqual([
        'SMS',
        'Voice',
        'Messaging apps',
      ]);
      await expect(row.locator('td').nth(2).textContent()).resolves.toBe('GBP');
      await expect(row.locator('td').nth(3).textContent()).resolves.toBe('£376.55');

      await page.getByRole('link', { name: 'Northwind Logistics' }).click();
      await page.waitForURL(`${baseUrl}/partner/customers/${northwind}`);
      const menu = page.getByRole('navigation', { name: 'Northwind Logistics' });
      await expect(menu.getByRole('link').allTextContents()).resolves.toEqual([
        'Overview',
        'SMS',
        'Voice',
        'Messaging apps',
      ]);

      await menu.getByRole('link', { name: 'SMS' }).click();
      await page.waitForURL(`${baseUrl}/partner/customers/${northwind}/usage/sms`);
      await expect(page.locator('#usage-log tbody tr').count()).resolves.toBe(25);
      await page.getByLabel('From', { exact: true }).fill('2026-11-20');
      await page.getByLabel('To', { exact: true }).fill('2026-11-21');
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForURL(
        (url) => url.searchParams.get('from') === '2026-11-20' && url.searchParams.get('to') === '2026-11-21',
      );
      await expect
        .poll(() => page.locator('#usage-chart-heading').textContent())
        .toBe('Daily volume and spend, 2026-11-20 to 2026-11-21');
      await expectUniqueIds(page);
      const times = await page
        .locator('#usage-log tbody time')
        .evaluateAll((els) => els.map((e) => e.getAttribute('datetime')!));
      expect(times.length).toBeGreaterThan(0);
      // Europe/London is on GMT in November: the two days are the same in UTC
      for (const t of times) expect(t >= '2026-11-20T00:00:00' && t < '2026-11-22T00:00:00').toBe(true);
      await expect(page.locator('#usage-log tbody td:nth-child(4)').first().textContent()).resolves.toMatch(
        /^••••\d{4}$/,
      );
      expect(await page.content()).not.toContain(DEMO_CONTACT_NAMES[0]);

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Export CSV' }).click(),
      ]);
      expect(download.suggestedFilename()).toBe('usage-NW-1001-sms-2026-11-20-to-2026-11-21.csv');
      const lines = (await readFile((await download.path())!, 'utf8')).trim().split('\n');
      expect(lines[0]).toBe('Time (Europe/London),Direction,Status,From,To,Duration (s),Units,Price (GBP)');
      expect(lines.length - 1).toBeGreaterThanOrEqual(times.length);
      for (const line of lines.slice(1))
        expect(line).toMatch(/^2026-11-2[01] [^,]+,(In|Out)bound,[^,]+,••••\d{4},••••\d{4},/);
      // read only: nothing on the page posts but the sign-out
      await expect(
        page.locator('form[method="post"]').evaluateAll((fs) => fs.map((f) => f.getAttribute('action'))),
      ).resolves.toEqual(['/logout']);
    },
  );

  it('keeps a partner of another reseller out of Northwind, even by its URL', async () => {
    const tenantId = demoId('tenant:demo');
    const partner = await makePartner(db, tenantId, { name: 'Coral Resellers' });
    const customer = await makeCustomer(db, tenantId, { title: 'Coral Customer' });
    await db('customers').where({ tenant_id: tenantId, id: customer.id }).update({ partner_id: partner.id });
    const user = await makeUser(db, { tenantId, role: 'partner_viewer', partnerId: partner.id });
    const page = await signInThroughForm(await browser.newPage(), baseUrl, user.email, TEST_PASSWORD);
    await page.waitForURL(`${baseUrl}/partner/customers`);
    await expect(page.locator('#partner-customer-table tbody th').allTextContents()).resolves.toEqual([
      'Coral Customer',
    ]);
    for (const path of [`/partner/customers/${northwind}`, `/partner/customers/${northwind}/usage/sms`]) {
      const res = await page.goto(`${baseUrl}${path}`);
      expect(res!.status()).toBe(404);
      expect(await page.content()).not.toContain('Northwind');
    }
  });
});
