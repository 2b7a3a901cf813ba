import { afterAll, describe, expect, it } from 'vitest';
import { testApp } from '../support/app.js';
import { serve, useBrowser } from '../support/browser.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser } from '../support/factories.js';
import { startSmtpCatcher } from '../support/smtp.js';

const { db } = await testDatabase();
const smtp = await startSmtpCatcher();
afterAll(() => smtp.close());
const { app } = testApp({ db, smtpUrl: smtp.url });
const { baseUrl } = await serve(app);
const browser = useBrowser();

const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Harbour Couriers' });
const user = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });

describe('forgetting a password', () => {
  it(
    'takes a user from "Forgot your password?" through the mailed link to their home page ' + 'with a new password',
    async () => {
      const page = await browser.newPage();
      await page.goto(`${baseUrl}/login`);
      await page.getByRole('link', { name: 'Forgot your password?' }).click();
      await page.waitForURL(`${baseUrl}/password/forgot`);
      await page.getByLabel('Email address').fill(user.email);
      await page.getByRole('button', { name: 'Send the link' }).click();
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Check your email');

      const mail = await smtp.waitFor((m) => (Array.isArray(m.to) ? m.to[0]?.text : m.to?.text) === user.email);
      const link = new URL(/(https?:\/\/\S+\/password\/reset\/[A-Za-z0-9_-]+)/.exec(mail.text ?? '')![1]!);
      // the mail links to the configured BASE_URL; this test server listens elsewhere
      await page.goto(`${baseUrl}${link.pathname}`);
      await page.getByLabel('New password', { exact: true }).fill('harbour lights at midnight');
      await page.getByLabel('New password again').fill('harbour lights at midnight');
      await page.getByRole('button', { name: 'Set the new password' }).click();

      await page.waitForURL(`${baseUrl}/login`);
      await page.getByText('Your password has been changed. Sign in with it.').waitFor();
      await page.getByLabel('Email address').fill(user.email);
      await page.getByLabel('Password').fill('harbour lights at midnight');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${baseUrl}/`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Harbour Couriers');
    },
  );
});
