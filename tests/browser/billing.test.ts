import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { demoId } from '../../src/demo/data.js';
import { demoJourney, signInThroughForm } from '../support/browser.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const { baseUrl, browser } = await demoJourney(NOW);
const northwind = demoId('customer:northwind');
const num = (n: number) => new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 }).format(n);

/** A figure of the summary table: row of the body (0 = newest), column as in :nth-child. */
const cell = (page: Page, row: number, col: number) =>
  page.locator(`table[data-cell-table] tbody tr:nth-child(${row + 1}) > :nth-child(${col})`);
/** A column's figures as the page shows them (1,234 or £12.34), as numbers (money in minor units). */
const columnFigures = (page: Page, col: number) =>
  page
    .locator(`table[data-cell-table] tbody tr > :nth-child(${col})`)
    .evaluateAll((cells) => cells.map((c) => Number(c.textContent!.replace(/[^\d]/g, ''))));
const focusedText = (page: Page) => page.evaluate(() => document.activeElement?.textContent?.trim());

/** Staff on Northwind's Daily summaries (1 to 23 November), allowed to use the clipboard, the script running. */
async function staffDailySummaries(): Promise<Page> {
  const page = await signInThroughForm(await browser.newPage(), baseUrl, 'admin@demo.test');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
  await page.goto(`${baseUrl}/admin/customers/${northwind}/billing/summaries?from=2026-11-01&to=2026-11-23`);
  await page.getByRole('grid', { name: /^Daily summary of Northwind/ }).waitFor();
  return page;
}

describe('call summaries in the browser', () => {
  it('selects a 3×2 block with the mouse, sums each column, copies it with headers from the context menu', async () => {
    const page = await staffDailySummaries();
    const status = page.locator('[data-cell-select-status]');
    // staff columns: Invoice, Day, Attempts, Connected, ASR, ACD, Billed minutes, Charge
    const [attempts, connected] = await Promise.all([columnFigures(page, 3), columnFigures(page, 4)]);

    await cell(page, 0, 3).click();
    await cell(page, 2, 4).click({ modifiers: ['Shift'] });
    const a = attempts.slice(0, 3).reduce((x, y) => x + y, 0);
    const c = connected.slice(0, 3).reduce((x, y) => x + y, 0);
    await expect
      .poll(() => status.textContent())
      .toBe(
        `6 cells selected (3 rows × 2 columns) · Attempts: sum ${num(a)}, average ${num(a / 3)}` +
          ` · Connected: sum ${num(c)}, average ${num(c / 3)}`,
      );
    expect(await page.locator('td[aria-selected="true"]').count()).toBe(6);

    // right-click inside the selection keeps it and opens the menu on its first item
    await cell(page, 1, 4).click({ button: 'right' });
    const menu = page.getByRole('menu', { name: 'Selected cells' });
    await menu.waitFor();
    await expect.poll(() => focusedText(page)).toBe('Copy');
    await browser.checkState(page, 'cell-menu');
    await menu.getByRole('menuitem', { name: 'Copy with headers' }).click();
    await expect.poll(() => status.textContent()).toBe('Copied 6 values with headers.');
    await menu.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      'Period (UTC)\tAttempts\tConnected\n' +
        `2026-11-23\t${attempts[0]}\t${connected[0]}\n` +
        `2026-11-22\t${attempts[1]}\t${connected[1]}\n` +
        `2026-11-21\t${attempts[2]}\t${connected[2]}\n`,
    );
    expect(await page.locator('td[aria-selected="true"]').count()).toBe(6);

    // dragging across two columns and two rows
    const from = (await cell(page, 3, 7).boundingBox())!;
    const to = (await cell(page, 4, 8).boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect
      .poll(() => status.textContent())
      .toMatch(
        /^4 cells selected \(2 rows × 2 columns\) · Billed minutes: sum [\d,]+, average [\d.,]+ · Charge \(GBP\): sum/,
      );

    // the whole table as CSV from the script
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export table (CSV)' }).click();
    expect((await download).suggestedFilename()).toBe('summary.csv');
  });

  it('selects, copies and exports a block with the keyboard alone, through the menu key and Shift+F10', async () => {
    const page = await staffDailySummaries();
    const status = page.locator('[data-cell-select-status]');
    const [minutes, charges] = await Promise.all([columnFigures(page, 7), columnFigures(page, 8)]);

    // Tab reaches the grid's one focusable cell, the first figure; arrows move, Shift+arrows extend
    await cell(page, 0, 3).focus();
    for (const key of ['ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowDown', 'ArrowUp'])
      await page.keyboard.press(key);
    await expect.poll(() => status.textContent()).toMatch(/^1 cell selected \(1 row × 1 column\) · Billed minutes: /);
    for (const key of ['Shift+ArrowDown', 'Shift+ArrowDown', 'Shift+ArrowRight']) await page.keyboard.press(key);
    await expect
      .poll(() => status.textContent())
      .toMatch(/^6 cells selected \(3 rows × 2 columns\) · Billed minutes: /);

    // Shift+F10 opens the menu, Escape closes it and gives the focus back to the cell
    await page.keyboard.press('Shift+F10');
    const menu = page.getByRole('menu', { name: 'Selected cells' });
    await menu.waitFor();
    await expect.poll(() => focusedText(page)).toBe('Copy');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'hidden' });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-selected'))).toBe('true');
    expect(await page.locator('td[aria-selected="true"]').count()).toBe(6);

    // the menu key, down to "Copy with headers", Enter
    await page.keyboard.press('ContextMenu');
    await menu.waitFor();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => focusedText(page)).toBe('Copy with headers');
    await page.keyboard.press('Enter');
    await expect.poll(() => status.textContent()).toBe('Copied 6 values with headers.');
    const decimal = (minor: number) => (minor / 100).toFixed(2);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      'Period (UTC)\tBilled minutes\tCharge (GBP)\n' +
        `2026-11-23\t${minutes[0]}\t${decimal(charges[0]!)}\n` +
        `2026-11-22\t${minutes[1]}\t${decimal(charges[1]!)}\n` +
        `2026-11-21\t${minutes[2]}\t${decimal(charges[2]!)}\n`,
    );

    // Ctrl+C copies the values alone; End in the menu reaches "Export selection (CSV)"
    await page.keyboard.press('Control+c');
    await expect.poll(() => status.textContent()).toBe('Copied 6 values.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      [0, 1, 2].map((i) => `${minutes[i]}\t${decimal(charges[i]!)}\n`).join(''),
    );
    await page.keyboard.press('ContextMenu');
    await menu.waitFor();
    await page.keyboard.press('End');
    await expect.poll(() => focusedText(page)).toBe('Export selection (CSV)');
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    expect(download.suggestedFilename()).toBe('summary-selection.csv');
    expect(await readFile((await download.path())!, 'utf8')).toBe(
      'Period (UTC),Billed minutes,Charge (GBP)\n' +
        [0, 1, 2].map((i) => `2026-11-2${3 - i},${minutes[i]},${decimal(charges[i]!)}\n`).join(''),
    );

    // Escape on the cells clears the selection
    await page.keyboard.press('Escape');
    await expect.poll(() => status.textContent()).toBe('No cells selected.');
  });

  it('shows the table, changes its range and downloads its CSV in a browser that runs no script', async () => {
    const page = await signInThroughForm(await browser.newPage({ javaScript: false }), baseUrl, 'owner@northwind.test');
    await page.goto(`${baseUrl}/billing/summaries`);
    // a plain table: no grid, no selection bar, no menu
    const table = page.getByRole('table', { name: /^Daily summary of Northwind/ });
    await table.waitFor();
    expect(await page.getByRole('grid').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Copy with headers' }).isVisible()).toBe(false);
    expect(await page.getByRole('menu').count()).toBe(0);

    await page.getByLabel('From (UTC)').fill('2026-11-20');
    await page.getByLabel('To (UTC)').fill('2026-11-22');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL((url) => url.searchParams.get('from') === '2026-11-20');
    expect(await table.locator('tbody th').allTextContents()).toEqual(['2026-11-22', '2026-11-21', '2026-11-20']);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download this table as CSV' }).click(),
    ]);
    const lines = (await readFile((await download.path())!, 'utf8')).trim().split('\n');
    expect(download.suggestedFilename()).toBe('NW-1001-daily-2026-11-20_2026-11-22.csv');
    expect(lines.map((l) => l.split(',')[0])).toEqual([
      'Period (UTC)',
      '2026-11-22',
      '2026-11-21',
      '2026-11-20',
      'Total',
    ]);
  });

  it('lets staff tick two rows and generate an invoice, which the customer sees once it is issued', async () => {
    const staff = await signInThroughForm(await browser.newPage(), baseUrl, 'admin@demo.test');
    await staff.goto(`${baseUrl}/admin/customers/${northwind}/billing/summaries`);
    // last month is the demo's issued invoice already
    expect(await staff.getByText('Invoiced INV-000001').count()).toBeGreaterThan(0);
    await staff.getByRole('checkbox', { name: 'Invoice 2026-11-22' }).check();
    await staff.getByRole('checkbox', { name: 'Invoice 2026-11-23' }).check();
    await staff.getByRole('button', { name: 'Generate invoice' }).click();
    await staff.waitForURL(/\/billing\/invoices\/[0-9a-f-]{36}$/);
    const heading = staff.getByRole('heading', { level: 1 });
    await expect.poll(() => heading.textContent()).toContain('INV-000002');
    expect(await staff.getByText('Usage, 2026-11-22 (UTC)').count()).toBe(1);

    // not for the customer while it is a draft
    const customer = await signInThroughForm(await browser.newPage(), baseUrl, 'owner@northwind.test');
    await customer.goto(`${baseUrl}/billing/invoices`);
    expect(await customer.getByRole('link', { name: 'INV-000002', exact: true }).count()).toBe(0);
    expect(await customer.getByRole('link', { name: 'INV-000001', exact: true }).count()).toBe(1);

    await staff.getByRole('button', { name: 'Issue' }).click();
    await expect.poll(() => staff.locator('.alert-success').textContent()).toContain('INV-000002 is now issued');

    // /billing lists it among the latest invoices, and "Invoices" in its sub-navigation lists them all
    await customer.goto(`${baseUrl}/billing`);
    const latest = customer.getByRole('table', { name: 'Your newest invoices' });
    await latest.getByRole('link', { name: 'INV-000002', exact: true }).waitFor();
    await customer
      .getByRole('navigation', { name: 'Billing sections' })
      .getByRole('link', { name: 'Invoices' })
      .click();
    await customer.waitForURL(`${baseUrl}/billing/invoices`);
    await customer.getByRole('link', { name: 'INV-000002', exact: true }).click();
    await expect.poll(() => customer.getByRole('heading', { level: 1 }).textContent()).toContain('Invoice INV-000002');
    expect(await customer.getByRole('button', { name: 'Issue' }).count()).toBe(0);
  });
});
