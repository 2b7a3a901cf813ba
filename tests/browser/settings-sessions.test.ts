import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { testApp } from '../support/app.js';
import { expectUniqueIds, serve, useBrowser } from '../support/browser.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const { app } = testApp({ db });
const { baseUrl } = await serve(app);
const browser = useBrowser();

const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id);
const user = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });

async function signIn(page: Page) {
  await page.goto(`${baseUrl}/login?next=%2Fsettings`);
  await page.getByLabel('Email address').fill(user.email);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/settings`);
}

describe('your sessions on the settings page', () => {
  it('signs out another device in place, and that device is sent to sign in', async () => {
    const laptop = await browser.newPage();
    const phone = await browser.newPage();
    await signIn(phone);
    await signIn(laptop);

    const sessions = laptop.locator('#sessions');
    await expect(sessions.getByRole('row').count()).resolves.toBe(3); // header and two sessions
    await expect(sessions.getByText('This device').count()).resolves.toBe(1);
    // a marker on the window survives only if the list is swapped in place, not reloaded
    await laptop.evaluate(() => Object.assign(window, { stillTheSamePage: true }));
    await sessions.getByRole('button', { name: /^Sign out .*last active/ }).click();
    await laptop.getByText(/^Signed out the session on/).waitFor();
    await expect(sessions.getByRole('row').count()).resolves.toBe(2);
    await expectUniqueIds(laptop);
    expect(laptop.url()).toBe(`${baseUrl}/settings`);
    await expect(
      laptop.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage),
    ).resolves.toBe(true);

    await phone.reload();
    expect(new URL(phone.url()).pathname).toBe('/login');
  });
});
