import { describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo/data.js';
import { testApp } from '../support/app.js';
import { serve, useBrowser } from '../support/browser.js';
import { testDatabase } from '../support/db.js';

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db });
const { baseUrl } = await serve(app);
const browser = useBrowser();

describe('signing in', () => {
  it('takes a company admin from the sign-in page to their customer home page', async () => {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await expect(page.title()).resolves.toBe('Sign in · Portico');
    await page.getByLabel('Email address').fill('owner@northwind.test');
    await page.getByLabel('Password').fill('portico-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${baseUrl}/`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Northwind Logistics');
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  });

  it('keeps the email and says what is wrong, next to the field, after a wrong password', async () => {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Email address').fill('fleet@northwind.test');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('.field .error');
    await expect(page.getByLabel('Email address').inputValue()).resolves.toBe('fleet@northwind.test');
    await expect(page.getByLabel('Password').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.locator('#f-password-error').textContent()).resolves.toContain('not right');
  });

  it('offers a skip link as the first thing a keyboard user reaches', async () => {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/no-such-page`);
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Skip to content');
  });
});
