import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, vi } from 'vitest';
import { chromiumPath } from '../../scripts/chromium-path.mjs';
import { freePort } from '../../src/db/embedded.js';
import { fixedClock } from '../../src/clock.js';
import { seedDemo } from '../../src/demo/data.js';
import { testApp } from './app.js';
import { testDatabase } from './db.js';
import { startSmtpCatcher } from './smtp.js';

/** Starts the app on a free port of 127.0.0.1 for as long as the test file runs. */
export async function serve(app: Express): Promise<{ baseUrl: string; server: Server }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, server };
}

/**
 * Debian's Chromium driven by playwright-core, one browser per test file and a fresh context per
 * page. Any console error, uncaught exception or CSP violation on a page fails the test.
 */
export function useBrowser() {
  // a journey is many steps, each a round trip through Chromium, the app and PostgreSQL: on a busy
  // 2-core machine one journey can need more than the 30 s a plain test gets
  vi.setConfig({ testTimeout: 60_000 });
  let browser: Browser;
  let problems: string[] = [];
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
  });
  afterAll(async () => browser?.close());
  afterEach(() => {
    const found = problems;
    problems = [];
    expect(found, 'console errors or CSP violations on the page').toEqual([]);
  });
  return {
    async newPage(): Promise<Page> {
      const context = await browser.newContext();
      // a step that waits longer than this fails naming what it waited for, inside the test's own time
      context.setDefaultTimeout(20_000);
      const page = await context.newPage();
      // a page answered 4xx on purpose (a 422 form, a 404 page) makes Chromium log the load as an error
      const pagesWithErrorStatus = new Set<string>();
      page.on('response', (res) => {
        if (res.request().resourceType() === 'document' && res.status() >= 400 && res.status() < 500)
          pagesWithErrorStatus.add(res.url());
      });
      page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        if (msg.text().startsWith('Failed to load resource') && pagesWithErrorStatus.has(msg.location().url)) return;
        problems.push(`console: ${msg.text()} (${msg.location().url})`);
      });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      // a page has arrived once htmx has wired it, which is after its `load` (see htmxWired)
      for (const name of ['goto', 'reload', 'goBack', 'goForward', 'waitForURL'] as const) {
        const navigate = page[name].bind(page) as (...args: unknown[]) => Promise<unknown>;
        Object.assign(page, {
          [name]: async (...args: unknown[]) => {
            const arrived = await navigate(...args);
            await htmxWired(page);
            return arrived;
          },
        });
      }
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) =>
          console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
        );
      });
      return page;
    },
  };
}

/** Elements htmx sends requests from; htmx marks each one it has wired with data-htmx-powered. */
const UNWIRED = ':is([hx-get],[hx-post],[hx-put],[hx-patch],[hx-delete]):not([data-htmx-powered])';

/**
 * Waits until htmx has wired every element of the page that sends a request. The deferred htmx script
 * wires a page in a task after its `load` event, and what it swaps in a tick after the swap: until
 * then a search typed or a filter chosen goes unheard, and the URL the journey waits for never comes.
 * Pages from useBrowser() call this after every goto, reload, goBack, goForward and waitForURL.
 */
export async function htmxWired(page: Page): Promise<void> {
  await page.locator(UNWIRED).first().waitFor({ state: 'detached' });
}

/**
 * Fails naming every element id the page holds more than once, as when a region is swapped into
 * itself instead of replacing itself (a forgotten hx-swap="outerHTML"). Call it after each htmx swap,
 * once the journey has seen the swap's result; it first waits until htmx has wired what came in.
 */
export async function expectUniqueIds(page: Page): Promise<void> {
  await htmxWired(page);
  const ids = await page.locator('[id]').evaluateAll((elements) => elements.map((e) => e.id));
  const repeated = [...new Set(ids.filter((id, i) => id && ids.indexOf(id) !== i))];
  expect(repeated, `element ids found more than once on ${page.url()}`).toEqual([]);
}

/** Signs in through the real form on a fresh page and waits until it has left /login. */
export async function signInThroughForm(
  page: Page,
  baseUrl: string,
  email: string,
  password = 'portico-demo',
): Promise<Page> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
  return page;
}

/**
 * What most journeys start from: a database of their own with the demo seeded at `now`, the app on
 * a clock fixed at `now`, served on 127.0.0.1, and a browser. Call at the top level of a test file.
 */
export async function demoJourney(now: Date) {
  const { db } = await testDatabase();
  await seedDemo(db, { now });
  const { app } = testApp({ db, clock: fixedClock(now) });
  const { baseUrl } = await serve(app);
  return { db, app, baseUrl, browser: useBrowser() };
}

/**
 * A journey that follows links from mail: the demo seeded now, a real SMTP server catching the
 * mail, and the app listening where its BASE_URL says, so the links in the mail open as they are.
 */
export async function mailJourney() {
  const { db } = await testDatabase();
  await seedDemo(db);
  const smtp = await startSmtpCatcher();
  afterAll(() => smtp.close());
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const { app } = testApp({ db, smtpUrl: smtp.url, env: { BASE_URL: baseUrl } });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { db, smtp, baseUrl, browser: useBrowser() };
}
