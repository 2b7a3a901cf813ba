import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { AxeResults } from 'axe-core';
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
 * page. Any console error, uncaught exception or CSP violation on a page fails the test, and so does
 * any WCAG 2.x A or AA violation axe finds on a page or htmx-swapped state the journey reaches.
 */
export function useBrowser() {
  // a journey is many steps, each a round trip through Chromium, the app and PostgreSQL: on a busy
  // 2-core machine one journey can need more than the 30 s a plain test gets
  vi.setConfig({ testTimeout: 60_000 });
  let browser: Browser;
  let problems: string[] = [];
  const axe = axeChecker();
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
  afterAll(async () => {
    axe.printSummary();
    await browser?.close();
  });
  afterEach(async () => {
    const found = problems;
    problems = [];
    expect(found, 'console errors or CSP violations on the page').toEqual([]);
    const violations = await axe.takeViolations();
    expect(violations, 'WCAG 2.x A/AA violations axe found (rule on page: element)').toEqual([]);
  });
  return {
    /**
     * Has axe check, before the journey goes on, a state the journey opened that is neither a page, an
     * htmx swap nor a <dialog> (a context menu, a selection); `name` tells it apart from the page.
     */
    checkState: (page: Page, name: string): Promise<void> => axe.check(page, name),
    /** A page in a fresh context; `{ javaScript: false }` is a visitor whose browser runs no script. */
    async newPage({ javaScript = true }: { javaScript?: boolean } = {}): Promise<Page> {
      const context = await browser.newContext({ javaScriptEnabled: javaScript });
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
      // and is then checked by axe, before the journey goes on (a check a navigation cut short is lost)
      for (const name of ['goto', 'reload', 'goBack', 'goForward', 'waitForURL'] as const) {
        const navigate = page[name].bind(page) as (...args: unknown[]) => Promise<unknown>;
        Object.assign(page, {
          [name]: async (...args: unknown[]) => {
            if (name !== 'waitForURL') await axe.settled(page);
            const arrived = await navigate(...args);
            // axe is a script: a page whose scripts are off is checked with JavaScript, by the other journeys
            if (javaScript) {
              await htmxWired(page);
              await axe.check(page, null);
            }
            return arrived;
          },
        });
      }
      if (javaScript) await axe.watch(page);
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) =>
          console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
        );
      });
      return page;
    },
  };
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WCAG_A_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** Findings that are not the page's to fix; each names the one rule and element it excuses, and why. */
const EXCUSED: { rule: string; selector: RegExp; why: string }[] = [
  {
    // Leaflet's markers are 25×41 px, but devices a few metres apart overlap on a group's map. WCAG 2.5.8
    // excepts a target whose function another control on the page offers: each marker's device is a link in
    // the list of devices under the map (page and dialog), and a marker only opens a popup with that link.
    rule: 'target-size',
    selector: /^\.leaflet-marker-icon\b/,
    why: 'overlapping map markers; the device list under the map is the equivalent',
  },
];

interface AxeState {
  key: string;
  person: string;
  swapped: boolean;
  href: string;
}

/**
 * axe-core over every page and every htmx-swapped state a test file's journeys reach, each distinct
 * (person, path, swap target) once. axe is evaluated through the DevTools protocol, which the page's
 * Content-Security-Policy does not govern, so the app's policy stays as it ships. A page is checked
 * once it has loaded and htmx has wired it; a swap after htmx's `htmx:after:settle`; a <dialog> once opened;
 * any other state when the journey asks (checkState).
 */
function axeChecker() {
  const checked = new Map<string, AxeState>();
  const queues = new WeakMap<Page, Promise<void>>();
  const pending = new Set<Promise<void>>();
  let violations: string[] = [];
  let file = '';

  async function run(page: Page, swapTarget: string | null): Promise<void> {
    // a page without JavaScript (or without htmx) is settled once it has loaded
    if (await page.evaluate(() => 'htmx' in window)) await htmxWired(page);
    // the key is read from the page as it stands: a path, and the swapped region's id
    const state = await page.evaluate((target) => {
      const who = document.querySelector('.site-header .account > :first-child')?.textContent?.trim();
      const path = location.pathname;
      return { path, href: location.href, person: who || 'signed out', target };
    }, swapTarget);
    const key = `${state.person} ${state.path}${swapTarget === null ? '' : ` with #${swapTarget}`}`;
    if (checked.has(key)) return;
    const hasAxe = await page.evaluate(() => 'axe' in window);
    if (!hasAxe) await page.evaluate(AXE_SOURCE);
    const results = await page.evaluate(
      async ({ tags, href }) => {
        if (location.href !== href) return null;
        const w = window as unknown as { axe: { run(c: Document, o: object): Promise<AxeResults> } };
        return w.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      },
      { tags: WCAG_A_AA, href: state.href },
    );
    if (!results) return;
    checked.set(key, { key, person: state.person, swapped: swapTarget !== null, href: state.href });
    // beyond axe: a status badge (renewal, site, over limit, …) says its state in words, not by its colour alone
    const wordless = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.badge'))
        .filter((b) => !b.textContent?.trim())
        .map((b) => b.outerHTML),
    );
    for (const badge of wordless) violations.push(`colour-only badge on ${state.href}: ${badge.slice(0, 120)}`);
    for (const rule of results.violations)
      for (const node of rule.nodes) {
        const selector = node.target.join(' ');
        if (EXCUSED.some((e) => e.rule === rule.id && e.selector.test(selector))) continue;
        const where = swapTarget === null ? state.href : `${state.href} with #${swapTarget} swapped in or open`;
        violations.push(`${rule.id} on ${where}: ${selector} (${rule.help})`);
      }
  }

  /** Runs the checks of one page one after another: axe refuses to start while it runs. */
  function check(page: Page, swapTarget: string | null): Promise<void> {
    const next = (queues.get(page) ?? Promise.resolve()).then(() =>
      run(page, swapTarget).catch((err: Error) => {
        // a page that navigated or closed under a check is checked when the journey reaches it again
        if (/context was destroyed|closed|navigat/i.test(err.message)) return;
        violations.push(`axe could not check ${page.url()}: ${err.message}`);
      }),
    );
    queues.set(page, next);
    pending.add(next);
    void next.then(() => pending.delete(next));
    return next;
  }

  return {
    check,
    /** Waits for the checks a page has queued, so a navigation does not cut them short. */
    settled: (page: Page) => queues.get(page) ?? Promise.resolve(),
    async watch(page: Page) {
      await page.exposeBinding('__porticoSwapSettled', (source, target: string) => {
        void check(source.page, target);
      });
      await page.addInitScript(() => {
        document.addEventListener('htmx:after:settle', (e) => {
          const target = e.target instanceof Element ? e.target : null;
          const w = window as unknown as { __porticoSwapSettled(target: string): void };
          // htmx wires what came in a tick after it settles
          setTimeout(() => w.__porticoSwapSettled(target?.id || target?.tagName.toLowerCase() || 'document'));
        });
        // an opened <dialog> is a state of its own: the page's check saw it closed, hence hidden
        document.addEventListener(
          'toggle',
          (e) => {
            const w = window as unknown as { __porticoSwapSettled(target: string): void };
            if (e.target instanceof HTMLDialogElement && (e as ToggleEvent).newState === 'open')
              setTimeout(() => w.__porticoSwapSettled(e.target instanceof Element ? e.target.id : 'dialog'));
          },
          true,
        );
      });
      page.on('load', () => void check(page, null));
    },
    async takeViolations(): Promise<string[]> {
      file ||= expect.getState().testPath ?? '';
      while (pending.size > 0) await Promise.all([...pending]);
      const found = violations;
      violations = [];
      return found;
    },
    printSummary() {
      const states = [...checked.values()];
      const people = new Map<string, { pages: number; swaps: number }>();
      for (const s of states) {
        const p = people.get(s.person) ?? { pages: 0, swaps: 0 };
        if (s.swapped) p.swaps += 1;
        else p.pages += 1;
        people.set(s.person, p);
      }
      const pages = states.filter((s) => !s.swapped).length;
      const each = [...people].map(([who, n]) => `${who}: ${n.pages}+${n.swaps}`).join('; ');
      const name = file.replace(/^.*\/tests\//, 'tests/');
      console.log(
        `axe ${name}: ${pages} pages and ${states.length - pages} swapped or opened states checked (${each})`,
      );
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
