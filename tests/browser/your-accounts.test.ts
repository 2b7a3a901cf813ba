import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { testApp } from '../support/app.js';
import { serve, signInThroughForm, useBrowser } from '../support/browser.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/** "Your accounts" on the settings page: switched by keyboard, with and without JavaScript (issue 21). */

const { db } = await testDatabase();
const { app } = testApp({ db });
const { baseUrl } = await serve(app);
const browser = useBrowser();

const first = await makeTenant(db, { name: 'First Provider' });
const second = await makeTenant(db, { name: 'Second Provider' });
const harbour = await makeCustomer(db, first.id, { title: 'Harbour Freight' });

/** A login that is company admin of Harbour Freight and tenant admin of the second provider. */
async function twoHats() {
  const person = await makeUser(db, { tenantId: first.id, role: 'company_admin', customerId: harbour.id });
  await db('memberships').insert({ tenant_id: second.id, user_id: person.id, role: 'tenant_admin' });
  return person;
}

async function switchByKeyboard(page: Page) {
  await page.goto(`${baseUrl}/settings`);
  const section = page.getByRole('region', { name: 'Your accounts' });
  await expect(section.getByRole('row').count()).resolves.toBe(3); // header and two accounts
  const current = section.getByRole('row', { name: /Harbour Freight/ });
  await expect(current.getByText('Current').count()).resolves.toBe(1);
  await expect(current.getByRole('button').count()).resolves.toBe(0);
  const button = section.getByRole('button', { name: 'Switch to Second Provider as Tenant admin' });
  await button.focus();
  await expect(button.evaluate((b) => b === document.activeElement)).resolves.toBe(true);
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.pathname === '/admin/customers');
  await page.getByText('You now act as Second Provider.').waitFor();

  await page.goto(`${baseUrl}/settings`);
  const now = page.getByRole('region', { name: 'Your accounts' });
  await expect(
    now
      .getByRole('row', { name: /Second Provider/ })
      .getByText('Current')
      .count(),
  ).resolves.toBe(1);
  await expect(now.getByRole('button', { name: 'Switch to Harbour Freight as Company admin' }).count()).resolves.toBe(
    1,
  );
}

describe('your accounts on the settings page', () => {
  it('switches account by keyboard', async () => {
    const person = await twoHats();
    const page = await signInThroughForm(await browser.newPage(), baseUrl, person.email, TEST_PASSWORD);
    await switchByKeyboard(page);
  });

  it('switches account without JavaScript', async () => {
    const person = await twoHats();
    const page = await signInThroughForm(
      await browser.newPage({ javaScript: false }),
      baseUrl,
      person.email,
      TEST_PASSWORD,
    );
    await switchByKeyboard(page);
  });
});
