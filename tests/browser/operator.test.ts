import { describe, expect, it } from 'vitest';
import { mailJourney, signInThroughForm } from '../support/browser.js';

/** The deployment operator's journey: a new tenant and its first admin, the deployment's mail, and disabling. */

const { smtp, baseUrl, browser } = await mailJourney();

describe('the deployment operator', () => {
  it('creates a tenant whose admin activates from the mail, finds that mail, and disables the tenant', async () => {
    const operator = await signInThroughForm(await browser.newPage(), baseUrl, 'operator@demo.test');
    expect(new URL(operator.url()).pathname).toBe('/operator/tenants');
    const nav = operator.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link').allTextContents()).resolves.toEqual([
      'Tenants',
      'Jobs',
      'Outgoing mail',
      'Two-factor sign-in',
    ]);
    await operator.getByRole('rowheader', { name: 'Demo Telematics' }).waitFor();

    await operator.getByLabel('Tenant name').fill('Harbour Provider');
    await operator.getByLabel('Email of its first tenant admin').fill('hal@harbour.test');
    await operator.getByLabel('Name of its first tenant admin').fill('Hal Harbour');
    await operator.getByRole('button', { name: 'Create tenant' }).click();
    await operator.getByRole('heading', { level: 1, name: 'Harbour Provider was created' }).waitFor();
    await operator.getByText('The activation link below is on its way to them by mail too.').waitFor();
    const shown = await operator.getByRole('textbox', { name: 'Activation link' }).inputValue();

    const mail = await smtp.waitFor((m) => (Array.isArray(m.to) ? m.to[0]?.text : m.to?.text) === 'hal@harbour.test');
    expect(mail.text).toContain(shown);
    const hal = await browser.newPage();
    await hal.goto(shown);
    await hal.getByLabel('New password', { exact: true }).fill('harbour walls stand firm');
    await hal.getByLabel('Repeat the new password').fill('harbour walls stand firm');
    await hal.getByRole('button', { name: 'Activate account' }).click();
    await hal.waitForURL(`${baseUrl}/admin/customers`);

    // the deployment's mail, with whose it is
    await operator.getByRole('link', { name: 'Outgoing mail' }).click();
    const row = operator.getByRole('row').filter({ hasText: 'hal@harbour.test' });
    await expect(row.getByRole('cell').nth(1).textContent()).resolves.toBe('Harbour Provider');

    await operator.getByRole('link', { name: 'Tenants' }).click();
    await operator.getByRole('button', { name: 'Disable Harbour Provider' }).click();
    await operator
      .getByText('Harbour Provider is disabled: its people can no longer sign in, and its renewals and reminders wait.')
      .waitFor();
    await operator.getByRole('button', { name: 'Enable Harbour Provider' }).waitFor();
    // Hal's open session has stopped working
    await hal.reload();
    await hal.waitForURL(/\/login\?next=/);
  });
});
