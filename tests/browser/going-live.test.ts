import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { createDb, ensureDatabase } from '../../src/db/index.js';
import { withDatabase } from '../support/global-setup.js';
import { useBrowser } from '../support/browser.js';
import { runPortico, startServer } from '../support/processes.js';

/**
 * Going live as a new provider would: the server started with NODE_ENV=production on an empty
 * database has no demo data, and the first tenant comes from `portico tenant create`, whose link lets
 * its first admin in. The server runs from the TypeScript source through tsx, as `npm start` did
 * before the production build; the build's own test starts dist/main.js.
 */

const adminUrl = inject('adminUrl');
const name = `live_${randomBytes(6).toString('hex')}`;
await ensureDatabase(adminUrl, name);
const env = {
  NODE_ENV: 'production',
  DATABASE_URL: withDatabase(adminUrl, name),
  DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'portico-live-')),
  SESSION_SECRET: randomBytes(32).toString('base64url'),
  JOBS: 'off',
};
const port = await freePort();
const baseUrl = `http://127.0.0.1:${port}`;
const server = await startServer({ ...env, PORT: String(port), BASE_URL: baseUrl }, /Portico is ready at/);
afterAll(async () => {
  const { code, out } = await server.stop();
  expect(code, out).toBe(0);
  const admin = createDb(adminUrl, { poolMax: 1 });
  await admin.raw(`drop database if exists ${name} with (force)`);
  await admin.destroy();
});
const browser = useBrowser();

describe('going live on an empty database', () => {
  it('has no demo login; the first tenant, made on the command line, gets an admin who adds a customer', async () => {
    const page = await browser.newPage();
    // the sign-in page answers, and the demo's published logins do not exist
    await page.goto(`${baseUrl}/login`);
    await page.getByLabel('Email address').fill('admin@demo.test');
    await page.getByLabel('Password').fill('portico-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The email address or password is not right.').waitFor();

    const created = await runPortico(
      [
        'tenant',
        'create',
        '--name',
        'Lakeside Telematics',
        '--admin-email',
        'lara@lakeside.test',
        '--admin-name',
        'Lara',
      ],
      { ...env, BASE_URL: baseUrl },
    );
    expect(created.code, created.stderr).toBe(0);
    const link = /^ {2}(http:\/\/127\.0\.0\.1:\d+\/activate\/\S+)$/m.exec(created.stdout)?.[1];
    expect(link, created.stdout).toBeDefined();

    await page.goto(link!);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Activate your account');
    await page.getByLabel('New password', { exact: true }).fill('lakeside mornings are calm');
    await page.getByLabel('Repeat the new password').fill('lakeside mornings are calm');
    await page.getByRole('button', { name: 'Activate account' }).click();
    await page.waitForURL(`${baseUrl}/admin/customers`);

    // signed out and in again with the password just chosen
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${baseUrl}/login`);
    await page.getByLabel('Email address').fill('lara@lakeside.test');
    await page.getByLabel('Password').fill('lakeside mornings are calm');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${baseUrl}/admin/customers`);
    await page.getByText('Lakeside Telematics').first().waitFor();

    await page.getByRole('link', { name: 'New customer' }).click();
    await page.getByLabel('Title', { exact: true }).fill('Lakeside Freight');
    await page.getByLabel('Account ID').fill('LF-1');
    await page.getByRole('button', { name: 'Create customer' }).click();
    await page.waitForURL(/\/admin\/customers\/[0-9a-f-]{36}$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Lakeside Freight');
    // the link worked once
    await page.goto(link!);
    await page.getByRole('heading', { level: 1, name: 'This activation link is no longer valid' }).waitFor();
    await page.getByText('It has already been used').waitFor();
    // longer than a plain journey: the command line's run is a process of its own
  }, 120_000);
});
