import { describe, expect, it } from 'vitest';
import { demoId } from '../../src/demo/data.js';
import { demoJourney, signInThroughForm } from '../support/browser.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const { baseUrl, browser } = await demoJourney(NOW);
const northwind = demoId('customer:northwind');
const gbp = (minor: number) =>
  new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' }).format(minor / 100);

describe('call summaries in the browser', () => {
  it('sums and averages three selected cells of a column, and copies them with headers', async () => {
    const page = await signInThroughForm(await browser.newPage(), baseUrl, 'admin@demo.test');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
    await page.goto(`${baseUrl}/admin/customers/${northwind}/billing/summaries?from=2026-11-01&to=2026-11-23`);
    await page.getByText('All times are UTC').waitFor();
    const charge = page.locator('table[data-cell-table] tbody tr td:nth-last-child(1)');
    const values = await charge.evaluateAll((cells) =>
      cells.slice(0, 3).map((c) => Number(c.getAttribute('data-value'))),
    );
    const days = await page
      .locator('table[data-cell-table] tbody tr th')
      .evaluateAll((cells) => cells.slice(0, 3).map((c) => c.textContent!.trim()));

    // click the first, Shift-click the third
    await charge.nth(0).click();
    await charge.nth(2).click({ modifiers: ['Shift'] });
    const status = page.locator('[data-cell-select-status]');
    const sum = values.reduce((a, b) => a + b, 0);
    await expect
      .poll(() => status.textContent())
      .toContain(
        `3 cells selected in Charge (GBP) · Sum: ${gbp(sum)} · Average of the selected values: ${gbp(sum / 3)}`,
      );
    expect(await page.locator('td[aria-selected="true"]').count()).toBe(3);

    await page.getByRole('button', { name: 'Copy with headers' }).click();
    await expect.poll(() => status.textContent()).toBe('Copied 3 values with headers.');
    const expected =
      ['Period (UTC)\tCharge (GBP)', ...days.map((d, i) => `${d}\t${(values[i]! / 100).toFixed(2)}`)].join('\n') + '\n';
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(expected);

    // the keyboard: Escape clears, Shift+ArrowDown extends from the focused cell
    await page.keyboard.press('Escape');
    await expect.poll(() => status.textContent()).toBe('No cells selected.');
    const attempts = page.locator('table[data-cell-table] tbody tr td:nth-child(3)');
    await attempts.nth(0).click();
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+ArrowDown');
    await expect
      .poll(() => status.textContent())
      .toMatch(/^3 cells selected in Attempts · Sum: [\d,]+ · Average of the selected values: /);

    // dragging down a column
    const minutes = page.locator('table[data-cell-table] tbody tr td:nth-last-child(2)');
    const from = (await minutes.nth(0).boundingBox())!;
    const to = (await minutes.nth(2).boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => status.textContent()).toMatch(/^3 cells selected in Billed minutes · Sum: /);

    // the whole table as CSV from the script
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export table (CSV)' }).click();
    expect((await download).suggestedFilename()).toBe('summary.csv');
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
