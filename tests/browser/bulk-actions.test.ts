import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { demoId } from '../../src/demo/data.js';
import { demoJourney, signInThroughForm } from '../support/browser.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const { db, baseUrl, browser } = await demoJourney(NOW);
const north = demoId('group:trucks-north');

const signIn = async (email: string): Promise<Page> => signInThroughForm(await browser.newPage(), baseUrl, email);

describe('a company admin acting on many assets at once', () => {
  it(
    'selects every asset matching a filter, previews a move with the skipped ones and why, ' +
      'confirms, and downloads the results',
    async () => {
      const trucks = await db('assets').where('group_path', 'like', 'Trucks%').select('id', 'group_id');
      const already = trucks.filter((a: { group_id: string }) => a.group_id === north).length;
      expect(already).toBeGreaterThan(0);

      const page = await signIn('owner@northwind.test');
      await page.goto(`${baseUrl}/assets?q=trucks`);
      // a row's checkbox is named after its asset, and the live region counts what is ticked
      const first = page.locator('[data-bulk-pick]').first();
      await first.check();
      await expect(page.locator('#bulk-count').textContent()).resolves.toBe('1 asset selected on this page.');
      await page.getByLabel(/Select all .*assets that match this filter/).check();
      await expect(page.locator('#bulk-count').textContent()).resolves.toContain('Every asset that matches');
      await page.getByLabel('Action').selectOption('move');
      await page.getByLabel('Group (for a move)').selectOption(north);
      await page.getByRole('button', { name: 'Preview' }).click();
      await page.waitForURL(/\/assets\/bulk\/[0-9a-f-]{36}$/);
      const summary = await page.locator('[role="status"]').last().textContent();
      expect(summary).toContain(`Of ${trucks.length} selected assets, ${trucks.length - already} will be moved`);
      await expect(page.getByText('Skipped: Already in this group.').first().isVisible()).resolves.toBe(true);

      await page.getByRole('button', { name: /^Confirm for / }).click();
      await page.waitForURL(/\/assets\/bulk\/[0-9a-f-]{36}$/);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Bulk action done');
      const moved = await db('assets')
        .where('group_path', 'like', 'Trucks%')
        .where({ group_id: north })
        .count({ n: '*' });
      expect(Number(moved[0]!.n)).toBe(trucks.length);
      const download = page.waitForEvent('download');
      await page.getByRole('link', { name: 'Download the results (CSV)' }).click();
      expect((await download).suggestedFilename()).toMatch(/^assets-move-.*\.csv$/);
    },
  );

  it('shows a group supervisor no bulk controls', async () => {
    const page = await signIn('viewer@northwind.test');
    await page.goto(`${baseUrl}/assets`);
    await expect(page.locator('[data-bulk-form]').count()).resolves.toBe(0);
  });
});
