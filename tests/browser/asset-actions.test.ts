import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { formatDay } from '../../src/services/assets/rules.js';
import { demoId } from '../../src/demo/data.js';
import { deactivationDate, todayIn } from '../../src/services/assets/subscription-rules.js';
import { demoJourney, expectUniqueIds, signInThroughForm } from '../support/browser.js';

const NOW = new Date('2026-11-24T09:00:00Z');
const { db, baseUrl, browser } = await demoJourney(NOW);
const northwind = demoId('customer:northwind');

const signIn = async (email: string): Promise<Page> => signInThroughForm(await browser.newPage(), baseUrl, email);

describe('a company admin deactivating an asset', () => {
  it(
    'sees the effective date before confirming, confirms, ' +
      'and finds the asset pending deactivation until that date',
    async () => {
      const asset = await db('assets')
        .where({ customer_id: northwind, status: 'active', plan: 'yearly', renewal_unconfirmed: false })
        .orderBy('identifier')
        .first<{
          id: string;
          identifier: string;
          name: string;
          plan: 'yearly';
          term_end: string;
          next_renewal_on: string;
        }>();
      const day = deactivationDate(
        { plan: asset.plan, termEnd: asset.term_end, nextRenewalOn: asset.next_renewal_on, renewalUnconfirmed: false },
        todayIn('Europe/London', NOW),
      );
      const label = formatDay(day);

      const page = await signIn('owner@northwind.test');
      await page.goto(`${baseUrl}/assets/${asset.id}`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain(asset.name);
      await page.getByRole('link', { name: 'Request deactivation' }).click();
      await page.waitForURL(`${baseUrl}/assets/${asset.id}/deactivation-request`);
      await expect(page.getByRole('heading', { level: 2 }).first().textContent()).resolves.toBe(
        `It takes effect on ${label}`,
      );

      await page.getByRole('button', { name: `Confirm deactivation on ${label}` }).click();
      await page.waitForURL(`${baseUrl}/assets/${asset.id}`);
      await expect(page.locator('#alerts').textContent()).resolves.toContain(
        `Deactivation requested: it takes effect on ${label}.`,
      );
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Deactivation pending');
      await expect(page.locator('.pending-note').textContent()).resolves.toContain(
        `Deactivation pending: it takes effect on ${label}.`,
      );
      await page.getByRole('button', { name: 'Cancel deactivation' }).waitFor();

      // and the list's Deactivation pending tab now holds it
      await page.goto(`${baseUrl}/assets?tab=deactivation-pending&q=${asset.identifier}`);
      await expect(page.locator('#asset-table').textContent()).resolves.toContain(asset.identifier);
    },
  );
});

describe('a group supervisor looking at an asset', () => {
  it('sees a Trucks asset with no action buttons', async () => {
    const asset = await db('assets')
      .where({ group_id: demoId('group:trucks'), status: 'active' })
      .orderBy('identifier')
      .first<{ id: string; name: string }>();
    const page = await signIn('viewer@northwind.test');
    await page.goto(`${baseUrl}/assets/${asset.id}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain(asset.name);
    await expect(page.getByRole('heading', { name: 'Actions' }).count()).resolves.toBe(0);
    const buttons = await page.locator('main button, main a.button').allTextContents();
    expect(buttons).toEqual([]);
  });
});

describe('a tenant admin approving an activation', () => {
  it('approves it in the queue, and the company admin then sees the asset active', async () => {
    const asset = await db('assets')
      .where({ customer_id: northwind, status: 'activation_pending' })
      .orderBy('identifier')
      .first<{ id: string; identifier: string }>();
    const admin = await signIn('admin@demo.test');
    await admin.getByRole('link', { name: 'Requests' }).click();
    await admin.waitForURL(`${baseUrl}/admin/requests`);
    // the filters swap the table in place and keep the address bar equal to the plain link
    await admin.getByLabel('Kind').selectOption('activation');
    await admin.waitForURL(`${baseUrl}/admin/requests?kind=activation&customer=`);
    await expectUniqueIds(admin);
    await admin.getByLabel('Customer').selectOption({ label: 'Northwind Logistics' });
    await admin.waitForURL((url) => url.searchParams.get('customer') === northwind);
    await expect.poll(() => admin.locator('#request-table tbody tr').count()).toBeGreaterThan(0);
    const kinds = await admin.locator('#request-table tbody td:nth-child(3)').allTextContents();
    expect(kinds.every((k) => k.startsWith('Activation'))).toBe(true);
    await expectUniqueIds(admin);

    await admin.getByRole('button', { name: `Approve the activation of ${asset.identifier}` }).click();
    await admin.waitForURL(
      (url) => url.pathname === '/admin/requests' && url.searchParams.get('customer') === northwind,
    );
    // that is the URL the queue already had: wait for the page the approval answers with
    await admin.locator('#alerts').getByText(`${asset.identifier} is active`).waitFor();
    await expect(admin.locator('#alerts').textContent()).resolves.toContain(`${asset.identifier} is active`);
    await expect(admin.locator('#request-table').textContent()).resolves.not.toContain(asset.identifier);

    const owner = await signIn('owner@northwind.test');
    await owner.goto(`${baseUrl}/assets/${asset.id}`);
    await expect(owner.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Active');
    await expect(owner.locator('table.history').textContent()).resolves.toContain('Approved');
  });
});
