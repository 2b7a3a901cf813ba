import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { demoId } from '../../src/demo/data.js';
import { mailJourney } from '../support/browser.js';

const { smtp, baseUrl, browser } = await mailJourney();
const usersTab = `${baseUrl}/admin/customers/${demoId('customer:northwind')}/users`;

async function signInAsTenantAdmin(page: Page) {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email address').fill('admin@demo.test');
  await page.getByLabel('Password').fill('portico-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/admin/customers`);
}

async function addUser(page: Page, fields: { name: string; email: string; activation: 'email' | 'link' }) {
  await page.goto(usersTab);
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Northwind Logistics');
  await page.getByRole('link', { name: 'Add user' }).click();
  await page.getByLabel('Name', { exact: true }).fill(fields.name);
  await page.getByLabel('Email address').fill(fields.email);
  await page.getByLabel('Role', { exact: true }).selectOption('group_supervisor');
  await page.getByLabel('Activation method').selectOption(fields.activation);
  await page.getByRole('button', { name: 'Add user' }).click();
}

/** A person who has never been here follows the link, chooses a password and is signed in. */
async function activateThroughLink(link: string, password: string) {
  const page = await browser.newPage();
  await page.goto(link);
  await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Activate your account');
  await page.getByLabel('New password', { exact: true }).fill(password);
  await page.getByLabel('Repeat the new password').fill(password);
  await page.getByRole('button', { name: 'Activate account' }).click();
  try {
    await page.waitForURL(`${baseUrl}/`);
  } catch (err) {
    // say where the journey stood instead, so a failure here can be understood from the log
    throw new Error(
      `activation did not land on the home page; at ${page.url()} showing "${await page
        .locator('h1')
        .first()
        .textContent({ timeout: 1000 })
        .catch(() => '?')}": ${String(err)}`,
    );
  }
  return page;
}

/** A suffix of this journey's own, so the customer and users it creates are new whenever it runs. */
const fresh = () => Math.random().toString(36).slice(2, 8);

describe('activating a new customer user', () => {
  it(
    'lets a tenant admin create a customer and its first user, ' +
      'who activates from the mail and lands on that customer’s home page',
    async () => {
      const tag = fresh();
      const carla = `carla.${tag}@contoso.test`;
      const admin = await browser.newPage();
      await signInAsTenantAdmin(admin);
      await admin.getByRole('link', { name: 'New customer' }).click();
      await admin.getByLabel('Title', { exact: true }).fill('Contoso Couriers');
      await admin.getByLabel('Account ID').fill(`CC-${tag}`);
      await admin.getByRole('button', { name: 'Create customer' }).click();
      await admin.waitForURL(/\/admin\/customers\/[0-9a-f-]{36}$/);
      await admin.getByRole('link', { name: 'Users', exact: true }).click();
      await admin.getByRole('link', { name: 'Add user' }).click();
      await admin.getByLabel('Name', { exact: true }).fill('Carla Contoso');
      await admin.getByLabel('Email address').fill(carla);
      await admin.getByLabel('Role', { exact: true }).selectOption('company_admin');
      await admin.getByLabel('Activation method').selectOption('email');
      await admin.getByRole('button', { name: 'Add user' }).click();
      await admin.getByText(`An activation email is on its way to ${carla}.`).waitFor();

      const mail = await smtp.waitFor((m) => (Array.isArray(m.to) ? m.to[0]?.text : m.to?.text) === carla);
      const link = /(https?:\/\/\S+\/activate\/[A-Za-z0-9_-]+)/.exec(mail.text ?? '')![1]!;
      const person = await activateThroughLink(link, 'a quiet harbour at dawn');
      await expect(person.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Contoso Couriers');

      // and the password now works on the sign-in page too
      const again = await browser.newPage();
      await again.goto(`${baseUrl}/login`);
      await again.getByLabel('Email address').fill(carla);
      await again.getByLabel('Password').fill('a quiet harbour at dawn');
      await again.getByRole('button', { name: 'Sign in' }).click();
      await again.waitForURL(`${baseUrl}/`);
      await expect(again.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Contoso Couriers');
    },
  );

  it('takes a user added with the emailed link from the mail to their customer’s home page', async () => {
    const admin = await browser.newPage();
    await signInAsTenantAdmin(admin);
    const mira = `mira.${fresh()}@northwind.test`;
    await addUser(admin, { name: 'Mira Mailed', email: mira, activation: 'email' });
    await admin.getByText(`An activation email is on its way to ${mira}.`).waitFor();
    await expect(admin.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Mira Mailed');
    await admin.getByText('Pending activation').first().waitFor();

    const mail = await smtp.waitFor((m) => (Array.isArray(m.to) ? m.to[0]?.text : m.to?.text) === mira);
    expect(mail.subject).toBe('Activate your Portico account');
    const link = /(https?:\/\/\S+\/activate\/[A-Za-z0-9_-]+)/.exec(mail.text ?? '')![1]!;
    expect(link.startsWith(`${baseUrl}/activate/`)).toBe(true);

    const person = await activateThroughLink(link, 'seven red kites over the bay');
    await expect(person.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Northwind Logistics');
    await person.getByText('Your account is active').waitFor();
  });

  it(
    'takes a user added with a displayed link, copied from the admin’s page, ' + 'to their customer’s home page',
    async () => {
      const admin = await browser.newPage();
      await admin.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
      await signInAsTenantAdmin(admin);
      await addUser(admin, { name: 'Lars Linked', email: `lars.${fresh()}@northwind.test`, activation: 'link' });
      await admin.getByRole('heading', { level: 2, name: /Lars Linked was added/ }).waitFor();
      const field = admin.getByRole('textbox', { name: 'Activation link' });
      await expect(field.getAttribute('readonly')).resolves.not.toBeNull();
      const link = await field.inputValue();
      expect(link.startsWith(`${baseUrl}/activate/`)).toBe(true);
      await admin.getByRole('button', { name: 'Copy' }).click();
      await admin.getByText('Copied.').waitFor();
      await expect(admin.evaluate(() => navigator.clipboard.readText())).resolves.toBe(link);

      const person = await activateThroughLink(link, 'lanterns along the old quay');
      await expect(person.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Northwind Logistics');
    },
  );
});
