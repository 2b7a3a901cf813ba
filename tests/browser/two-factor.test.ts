import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { totpCodeAt } from '../../src/services/people/index.js';
import { testApp } from '../support/app.js';
import { serve, useBrowser } from '../support/browser.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

const { db } = await testDatabase();
const clock = fixedClock(new Date());
const { app } = testApp({ db, clock });
const { baseUrl } = await serve(app);
const browser = useBrowser();

const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id);

async function passwordStep(page: Page, email: string) {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
}

async function enterCode(page: Page, code: string) {
  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(`${baseUrl}/login`);
}

describe('two-factor sign-in', () => {
  it('is turned on with an app, then asks for a code, and takes each recovery code once', async () => {
    const person = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
    const page = await browser.newPage();
    await passwordStep(page, person.email);

    await page.goto(`${baseUrl}/settings`);
    await page.getByRole('link', { name: 'Manage two-factor sign-in' }).click();
    await page.waitForURL(`${baseUrl}/settings/two-factor`);
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    const secret = (await page.locator('#two-factor-secret').innerText()).replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    await page.getByLabel('Code from your app').fill('000000');
    await page.getByRole('button', { name: 'Turn two-factor sign-in on' }).click();
    await page.getByText('That code is not right').waitFor();
    await page.getByLabel('Code from your app').fill(totpCodeAt(secret, clock.now()));
    await page.getByRole('button', { name: 'Turn two-factor sign-in on' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    const codes = await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').allInnerTexts();
    expect(codes).toHaveLength(10);
    for (const c of codes) expect(c).toMatch(/^[a-z0-9]{4}-[a-z0-9]{4}$/);
    await page.getByRole('link', { name: 'I have kept them, continue' }).click();
    await signOut(page);

    // a code from the app, the next step's (the one that turned it on is spent)
    clock.advance(30_000);
    await passwordStep(page, person.email);
    expect(new URL(page.url()).pathname).toBe('/login/two-factor');
    await enterCode(page, '999999');
    await page.getByText('That code is not right').waitFor();
    expect(new URL(page.url()).pathname).toBe('/login/two-factor');
    await enterCode(page, totpCodeAt(secret, clock.now()));
    await page.waitForURL((url) => url.pathname !== '/login/two-factor');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await signOut(page);

    // a recovery code, in the same field
    await passwordStep(page, person.email);
    await enterCode(page, codes[0]!);
    await page.waitForURL((url) => url.pathname !== '/login/two-factor');
    await page.getByText('You signed in with a recovery code; it no longer works.').waitFor();
    await signOut(page);

    // the same recovery code again: refused, and the person stays on the step
    await passwordStep(page, person.email);
    await enterCode(page, codes[0]!);
    await page.getByText('That code is not right, or it was already used.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/login/two-factor');
  });

  it('sends an admin without it to set it up, once their tenant requires it', async () => {
    const t = await makeTenant(db);
    const c = await makeCustomer(db, t.id);
    const staff = await makeUser(db, { tenantId: t.id, role: 'tenant_admin' });
    const owner = await makeUser(db, { tenantId: t.id, role: 'company_admin', customerId: c.id });

    const staffPage = await browser.newPage();
    await passwordStep(staffPage, staff.email);
    await staffPage.goto(`${baseUrl}/admin/settings`);
    await staffPage.getByLabel("Require it of customers' company admins").check();
    await staffPage.locator('#two-factor').getByRole('button', { name: 'Save' }).click();
    await staffPage.getByText('Two-factor requirements saved.').waitFor();

    const page = await browser.newPage();
    await passwordStep(page, owner.email);
    await page.waitForURL(`${baseUrl}/settings/two-factor`);
    await page.getByText('requires two-factor sign-in for your role').waitFor();
    await page.goto(`${baseUrl}/assets`);
    await page.waitForURL(`${baseUrl}/settings/two-factor`);

    const secret = (await page.locator('#two-factor-secret').innerText()).replace(/\s/g, '');
    await page.getByLabel('Code from your app').fill(totpCodeAt(secret, clock.now()));
    await page.getByRole('button', { name: 'Turn two-factor sign-in on' }).click();
    await page.getByRole('link', { name: 'I have kept them, continue' }).click();
    await page.waitForURL((url) => url.pathname !== '/settings/two-factor');
    await page.goto(`${baseUrl}/assets`);
    expect(new URL(page.url()).pathname).toBe('/assets');
  });
});
