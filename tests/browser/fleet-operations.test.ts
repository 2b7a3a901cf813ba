import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { demoId } from '../../src/demo/data.js';
import { addDays, RENEWAL_WARNING_DAYS, todayIn } from '../../src/services/assets/subscription-rules.js';
import { demoJourney, signInThroughForm } from '../support/browser.js';

/**
 * Issue 22's journeys beside the bulk move (bulk-actions.test.ts): staff register and activate a
 * customer's device, which the customer then sees active; a group supervisor's hand-made bulk post
 * is refused; a group's due count opens exactly the due assets; a customer whose home page is
 * "assets" lands there; a comment added from the ticket list is on the ticket.
 */

const NOW = new Date('2026-11-24T09:00:00Z');
const { db, baseUrl, browser } = await demoJourney(NOW);
const northwind = demoId('customer:northwind');
const trucks = demoId('group:trucks');

const signIn = async (email: string): Promise<Page> => signInThroughForm(await browser.newPage(), baseUrl, email);

describe('staff managing a customer’s devices', () => {
  it('registers a device for a customer and activates it; the customer sees it Active', async () => {
    const staff = await signIn('admin@demo.test');
    await staff.goto(`${baseUrl}/admin/customers/${northwind}/assets`);
    await staff.getByRole('link', { name: 'Register a device' }).click();
    await staff.waitForURL((url) => url.pathname.endsWith('/assets/new'));
    // a taken identifier first: said next to the field, what was typed kept
    const taken = (await db('assets').where({ customer_id: northwind }).first('identifier')) as { identifier: string };
    await staff.getByLabel('Identifier').fill(taken.identifier);
    await staff.getByLabel('Name (optional)').fill('Journey truck');
    await staff.getByRole('button', { name: 'Register' }).click();
    await staff.locator('#f-identifier-error').waitFor();
    await expect(staff.locator('#f-identifier-error').textContent()).resolves.toContain('is already registered');
    await expect(staff.getByLabel('Name (optional)').inputValue()).resolves.toBe('Journey truck');
    await staff.getByLabel('Identifier').fill('JOURNEY-0022');
    await staff.getByLabel('Name (optional)').fill('Journey truck');
    await staff.getByLabel('Group').selectOption(trucks);
    await staff.getByRole('button', { name: 'Register' }).click();
    await staff.waitForURL((url) => /\/assets\/[0-9a-f-]{36}$/.test(url.pathname));
    await expect(staff.locator('#alerts').textContent()).resolves.toContain('JOURNEY-0022 is registered');
    await expect(staff.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Inactive');

    await staff.getByRole('button', { name: 'Activate now' }).click();
    await staff.waitForURL((url) => /\/assets\/[0-9a-f-]{36}$/.test(url.pathname));
    await expect(staff.locator('#alerts').textContent()).resolves.toContain('JOURNEY-0022 is active');
    await expect(staff.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Active');
    const assetId = new URL(staff.url()).pathname.split('/').pop()!;
    // deactivation asks first; keeping it active changes nothing
    await staff.getByRole('link', { name: 'Deactivate…' }).click();
    await staff.waitForURL((url) => url.pathname.endsWith('/deactivation'));
    await expect(staff.getByRole('button', { name: 'Deactivate JOURNEY-0022 now' }).isVisible()).resolves.toBe(true);
    await staff.getByRole('link', { name: 'Keep it active' }).click();
    await staff.waitForURL((url) => url.pathname.endsWith(assetId));

    const customer = await signIn('owner@northwind.test');
    await customer.goto(`${baseUrl}/assets?q=JOURNEY-0022`);
    await customer.getByRole('link', { name: 'JOURNEY-0022' }).click();
    await customer.waitForURL((url) => url.pathname === `/assets/${assetId}`);
    await expect(customer.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Active');
    const history = await customer.locator('table.history').textContent();
    expect(history).toContain('Registration');
    expect(history).toContain('Activation');
    expect(history).toContain('Demo Telematics');
  });
});

describe('bulk actions refused to a group supervisor', () => {
  it('shows no bulk controls, and a bulk post made by hand answers 403', async () => {
    const page = await signIn('viewer@northwind.test');
    await page.goto(`${baseUrl}/assets`);
    await expect(page.locator('[data-bulk-form]').count()).resolves.toBe(0);
    const csrf = await page.locator('input[name="_csrf"]').first().getAttribute('value');
    const before = await db('bulk_actions').count({ n: '*' });
    const truck = (await db('assets').where({ group_id: trucks }).first('id')) as { id: string };
    const res = await page.request.post(`${baseUrl}/assets/bulk`, {
      form: { _csrf: csrf!, action: 'move', 'ids[]': truck.id, group_id: demoId('group:trucks-north') },
      maxRedirects: 0,
    });
    expect(res.status()).toBe(403);
    const all = await page.request.post(`${baseUrl}/assets/bulk`, {
      form: { _csrf: csrf!, action: 'deactivate', all: '1' },
      maxRedirects: 0,
    });
    expect(all.status()).toBe(403);
    expect(await db('bulk_actions').count({ n: '*' })).toEqual(before);
  });
});

describe('due for renewal', () => {
  it('a group’s due count opens exactly the assets due within four weeks', async () => {
    const today = todayIn('Europe/London', NOW);
    const until = addDays(today, RENEWAL_WARNING_DAYS);
    const due: string[] = (
      await db('assets')
        .where({ customer_id: northwind, status: 'active' })
        .where((q) => q.where('group_path', 'Trucks').orWhere('group_path', 'like', 'Trucks / %'))
        .whereNot('plan', 'monthly')
        .whereBetween('next_renewal_on', [today, until])
        .orderBy('identifier')
        .pluck('identifier')
    ).sort();
    expect(due.length).toBeGreaterThan(0);

    const page = await signIn('owner@northwind.test');
    await page.goto(`${baseUrl}/groups/${trucks}`);
    // the group's own count (the filter's tab on the list below says the same in words)
    await page.getByRole('link', { name: /^\d+ within 4 weeks$/ }).click();
    await page.waitForURL((url) => url.searchParams.get('due') === '28d');
    const shown = (await page.locator('table.asset-table tbody th[scope="row"]').allTextContents())
      .map((t) => t.trim())
      .sort();
    expect(shown).toEqual(due);
  });
});

describe('the customer’s home page', () => {
  it('takes a customer whose home page is "assets" to /assets after sign-in and from /', async () => {
    await db('customers').where({ id: northwind }).update({ home_page: 'assets' });
    try {
      const page = await signIn('owner@northwind.test');
      expect(new URL(page.url()).pathname).toBe('/assets');
      await page.goto(`${baseUrl}/`);
      expect(new URL(page.url()).pathname).toBe('/assets');
    } finally {
      await db('customers').where({ id: northwind }).update({ home_page: 'summary' });
    }
  });
});

describe('a quick comment from the ticket list', () => {
  it('is added in place and is then on the ticket', async () => {
    const page = await signIn('owner@northwind.test');
    await page.goto(`${baseUrl}/tickets`);
    const form = page.locator('form.quick-comment').first();
    const ticketPath = (await form.getAttribute('action'))!.replace(/\/comments$/, '');
    // each row's form folds away under its "Comment" disclosure
    await page.locator('details:has(form.quick-comment) > summary').first().click();
    await form.locator('textarea').fill('Added from the list: the unit is back online.');
    await form.getByRole('button', { name: 'Add comment' }).click();
    await page.getByText('Your comment has been added.').waitFor();
    await page.goto(`${baseUrl}${ticketPath}`);
    await expect(page.locator('.ticket-comment').last().textContent()).resolves.toContain(
      'Added from the list: the unit is back online.',
    );
  });
});
