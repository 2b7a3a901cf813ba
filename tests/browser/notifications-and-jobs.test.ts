import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { unsubscribeToken } from '../../src/services/mail/notifications.js';
import { testApp } from '../support/app.js';
import { serve, useBrowser } from '../support/browser.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeOperator, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const { app, ctx } = testApp({ db });
const { baseUrl } = await serve(app);
const browser = useBrowser();

const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Acme Freight' });
const fleet = await makeUser(
  db,
  { tenantId: tenant.id, role: 'group_admin', customerId: customer.id },
  { email: 'fleet@acme.test' },
);
const operator = await makeOperator(db, { name: 'Opal Operator' });

async function signIn(page: Page, email: string, next: string) {
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}${next}`);
}

describe('renewal reminders, from the mail and from the settings page', () => {
  it('stops them with the link in a mail, and turns them on again in settings', async () => {
    const page = await browser.newPage();
    await page.goto(
      `${baseUrl}/unsubscribe/${unsubscribeToken(ctx.config.sessionSecret, fleet.id, 'renewal_reminders')}`,
    );
    await page.getByRole('heading', { name: 'Stop renewal reminders?' }).waitFor();
    await page.getByRole('button', { name: 'Stop renewal reminders' }).click();
    await page.getByRole('heading', { name: 'Renewal reminders stopped' }).waitFor();
    await expect(page.getByText('fleet@acme.test will no longer get renewal reminders.').count()).resolves.toBe(1);

    await signIn(page, fleet.email, '/settings');
    const renewals = page.getByRole('checkbox', { name: 'Renewal reminders' });
    await expect(renewals.isChecked()).resolves.toBe(false);
    await renewals.check();
    await page.getByRole('button', { name: 'Save notifications' }).click();
    await page.getByText('Your notification choices have been saved.').waitFor();
    await expect(page.getByRole('checkbox', { name: 'Renewal reminders' }).isChecked()).resolves.toBe(true);
  });
});

describe("the operator's Jobs page", () => {
  it('runs a job by hand and shows its run', async () => {
    const page = await browser.newPage();
    await signIn(page, operator.email, '/operator/jobs');
    await page.getByRole('button', { name: 'Run now expire-tokens' }).click();
    await page.getByText('“expire-tokens” finished: 0 links expired.').waitFor();
    const runs = page.getByRole('table', { name: 'Latest runs of expire-tokens, newest first' });
    await expect(runs.getByRole('row').count()).resolves.toBe(2);
    await expect(runs.getByText(`Opal Operator <${operator.email}>`).count()).resolves.toBe(1);
  });
});
