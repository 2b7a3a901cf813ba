import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DEMO_CONTACT_NAMES } from '../../src/demo/usage.js';
import { demoJourney, expectUniqueIds, signInThroughForm } from '../support/browser.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const { baseUrl, browser } = await demoJourney(NOW);

describe('a company admin looking at their own usage', () => {
  it('opens Usage from Billing, picks SMS, filters delivered ones, pages, and downloads the CSV', async () => {
    const page = await signInThroughForm(await browser.newPage(), baseUrl, 'owner@northwind.test');
    await page.goto(`${baseUrl}/billing`);
    await page.getByRole('navigation', { name: 'Billing sections' }).getByRole('link', { name: 'Usage' }).click();
    await page.waitForURL(`${baseUrl}/usage`);
    await page.getByRole('navigation', { name: 'Products' }).getByRole('link', { name: 'SMS' }).click();
    await page.waitForURL(`${baseUrl}/usage?product=sms`);
    await expect(page.locator('#usage-log tbody tr').count()).resolves.toBe(25);

    await page.getByLabel('Status').selectOption('delivered');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL((url) => url.searchParams.get('status') === 'delivered');
    expect(new URL(page.url()).searchParams.get('product')).toBe('sms');
    await expect
      .poll(() => page.locator('#usage-log tbody .badge').allTextContents())
      .toEqual(Array.from({ length: 25 }, () => 'Delivered'));
    await expectUniqueIds(page);
    // their own numbers, in full; still no contact names
    await expect(page.locator('#usage-log tbody td:nth-child(4)').first().textContent()).resolves.toMatch(
      /^\+\d{10,}$/,
    );
    expect(await page.content()).not.toContain(DEMO_CONTACT_NAMES[0]);

    const firstPage = await page.locator('#usage-log tbody time').first().getAttribute('datetime');
    await page.getByRole('link', { name: 'Older' }).click();
    await page.waitForURL((url) => url.searchParams.has('after'));
    await expect.poll(() => page.locator('#usage-log tbody time').first().getAttribute('datetime')).not.toBe(firstPage);
    await expect(page.getByRole('link', { name: 'Newest' }).count()).resolves.toBe(1);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('usage-NW-1001-sms-2026-10-26-to-2026-11-24.csv');
    const lines = (await readFile((await download.path())!, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('Time (Europe/London),Direction,Status,From,To,Duration (s),Units,Price (GBP)');
    expect(lines.length).toBeGreaterThan(26);
    for (const line of lines.slice(1)) expect(line).toMatch(/^2026-1[01]-\d\d [^,]+,(In|Out)bound,Delivered,'\+\d+,/);
  });
});
