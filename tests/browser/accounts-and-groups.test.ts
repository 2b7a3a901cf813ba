import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { demoId } from '../../src/demo/data.js';
import { demoJourney, expectUniqueIds, signInThroughForm } from '../support/browser.js';

/**
 * Issue 21's journeys of accounts: an admin invites a login that already exists, who accepts through the
 * same activation link and switches between the two accounts from the header; and a company admin adds a
 * group supervisor with a group in the same form, who sees that group's assets at their first sign-in.
 */

// the session rows expire by the real clock, so the app's clock is today's
const { db, baseUrl, browser } = await demoJourney(new Date());
const harbor = demoId('customer:harbor');
const trucks = demoId('group:trucks');
const inTrucks = (await db('assets').where({ group_id: trucks }).orderBy('identifier').first('identifier')) as {
  identifier: string;
};
const elsewhere = (await db('assets')
  .where({ customer_id: demoId('customer:northwind') })
  .whereNot({ group_id: trucks })
  .whereNotNull('group_id')
  .whereNotIn('group_id', db('groups').where({ parent_id: trucks }).select('id'))
  .orderBy('identifier')
  .first('identifier')) as { identifier: string };

/** The activation link the adding admin is shown, as a path on this server. */
async function shownLink(page: Page): Promise<string> {
  const link = await page.locator('#activation-link').inputValue();
  return new URL(link).pathname;
}

async function accountPlace(page: Page): Promise<string> {
  return (await page.locator('.site-header .account .muted').first().textContent())!.trim();
}

describe('one login, two accounts', () => {
  it('an existing login accepts an invitation through /activate/:token and switches between its accounts', async () => {
    const admin = await signInThroughForm(await browser.newPage(), baseUrl, 'admin@demo.test');
    await admin.goto(`${baseUrl}/admin/customers/${harbor}/users/new`);
    await admin.getByLabel('Name', { exact: true }).fill('Fleet at Harbor');
    await admin.getByLabel('Email address').fill('fleet@northwind.test');
    await admin.getByLabel('Role', { exact: true }).selectOption('group_admin');
    await admin.getByLabel('Activation method').selectOption('link');
    await admin.getByRole('button', { name: 'Add user' }).click();
    // the same answer as for a new address: a link to hand over
    const path = await shownLink(admin);
    expect(path).toMatch(/^\/activate\/[A-Za-z0-9_-]+$/);

    const page = await browser.newPage();
    await page.goto(`${baseUrl}${path}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Accept your new account');
    await page.getByLabel('Your password').fill('portico-demo');
    await page.getByRole('button', { name: 'Accept and sign in' }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/activate'));

    // the header's switcher, by keyboard: to the other account and back
    const start = await accountPlace(page);
    await page.getByRole('link', { name: 'Switch role' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`${baseUrl}/session/membership`);
    await expectUniqueIds(page);
    const other = start.includes('Harbor') ? /Northwind/ : /Harbor/;
    await page.getByRole('radio', { name: other }).check();
    await page.getByRole('button', { name: 'Switch' }).click();
    await page.waitForURL((url) => url.pathname !== '/session/membership');
    const switched = await accountPlace(page);
    expect(switched).not.toBe(start);
    expect(switched).toMatch(other);

    await page.getByRole('link', { name: 'Switch role' }).click();
    await page.getByRole('radio', { name: start.includes('Harbor') ? /Harbor/ : /Northwind/ }).check();
    await page.getByRole('button', { name: 'Switch' }).click();
    await page.waitForURL((url) => url.pathname !== '/session/membership');
    await expect(accountPlace(page)).resolves.toBe(start);
  });
});

describe('a user added with their group', () => {
  it('a company admin adds a group supervisor with a group, who sees its assets at first sign-in', async () => {
    const admin = await signInThroughForm(await browser.newPage(), baseUrl, 'owner@northwind.test');
    await admin.goto(`${baseUrl}/users`);
    await admin.getByRole('link', { name: 'Add user' }).first().click();
    await admin.getByLabel('Name', { exact: true }).fill('Gina Groups');
    await admin.getByLabel('Email address').fill('gina@northwind.test');
    await admin.getByLabel('Role', { exact: true }).selectOption('group_supervisor');
    await admin.getByLabel('Activation method').selectOption('link');
    await admin.getByRole('group', { name: 'Groups' }).getByRole('checkbox', { name: 'Trucks', exact: true }).check();
    await admin.getByRole('button', { name: 'Add user' }).click();
    const path = await shownLink(admin);

    const page = await browser.newPage();
    await page.goto(`${baseUrl}${path}`);
    const password = 'gina keeps the trucks rolling';
    await page.getByLabel('New password', { exact: true }).fill(password);
    await page.getByLabel('Repeat the new password').fill(password);
    await page.getByRole('button', { name: 'Activate account' }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/activate'));
    await page.goto(`${baseUrl}/assets`);
    await page.getByText(inTrucks.identifier).first().waitFor();
    await expect(page.getByText(elsewhere.identifier).count()).resolves.toBe(0);
  });
});
