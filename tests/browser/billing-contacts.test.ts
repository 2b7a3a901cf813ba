import { describe, expect, it } from 'vitest';
import { DEMO_PRIVATE_NOTE } from '../../src/demo/billing.js';
import { demoId } from '../../src/demo/data.js';
import { mailJourney, signInThroughForm } from '../support/browser.js';

const { smtp, baseUrl, browser } = await mailJourney();
const billingTab = `${baseUrl}/admin/customers/${demoId('customer:northwind')}/billing`;

describe('a billing contact added by staff', () => {
  it(
    'gets a generated password by mail, must set a new one at first sign-in, ' +
      'and sees the public note but not the private one',
    async () => {
      const admin = await signInThroughForm(await browser.newPage(), baseUrl, 'admin@demo.test');
      await admin.goto(billingTab);
      await admin.getByRole('link', { name: 'Add contact' }).click();
      await admin.getByText('Never put passwords in the notes.').waitFor();
      await admin.getByLabel('Name', { exact: true }).fill('Petra Payables');
      await admin.getByLabel('Login email').fill('petra@northwind.test');
      await admin.getByLabel('Generate a password and email it to them').check();
      await admin.getByLabel('Public notes').fill('Your statements arrive on the 2nd of each month.');
      await admin.getByLabel('Private notes').fill('Petra private: disputed the October bill');
      await admin.getByRole('button', { name: 'Add contact' }).click();
      await admin.getByText('A password is on its way to petra@northwind.test').waitFor();
      await admin.getByRole('cell', { name: 'Petra private: disputed the October bill' }).waitFor();

      const mail = await smtp.waitFor(
        (m) => (Array.isArray(m.to) ? m.to[0]?.text : m.to?.text) === 'petra@northwind.test',
      );
      const password = /password:\s+(\S+)/.exec(mail.text ?? '')![1]!;
      expect(password.length).toBeGreaterThanOrEqual(12);

      const petra = await browser.newPage();
      await petra.goto(`${baseUrl}/login`);
      await petra.getByLabel('Email address').fill('petra@northwind.test');
      await petra.getByLabel('Password').fill(password);
      await petra.getByRole('button', { name: 'Sign in' }).click();
      await petra.waitForURL(`${baseUrl}/password/new`);
      // nothing else is reachable until the password is her own
      await petra.goto(`${baseUrl}/billing`);
      await petra.waitForURL(`${baseUrl}/password/new`);
      await petra.getByLabel('New password', { exact: true }).fill('ledgers balance at noon');
      await petra.getByLabel('New password again').fill('ledgers balance at noon');
      await petra.getByRole('button', { name: 'Set the new password' }).click();
      await petra.waitForURL((url) => url.pathname !== '/password/new');

      await petra.goto(`${baseUrl}/billing`);
      await expect(petra.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Billing');
      await petra.getByText('Your statements arrive on the 2nd of each month.').waitFor();
      const body = await petra.content();
      expect(body).not.toContain('Petra private');
      expect(body).not.toContain(DEMO_PRIVATE_NOTE);
    },
  );
});
