import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import supertest from 'supertest';
import { createApp } from '../../src/app.js';
import { systemClock, type Clock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { AppContext } from '../../src/context.js';
import type { Db } from '../../src/db/index.js';
import { createMailTransport } from '../../src/services/mail/transport.js';
import { createMailPump } from '../../src/services/mail/outbox.js';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'portico-data-')),
    SESSION_SECRET: 'test-secret-that-is-long-enough-for-the-check',
    JOBS: 'off',
    // tests never fetch map tiles from the network
    MAP_TILE_URL: 'none',
    ...overrides,
  });
}

export type TestAppOptions = { db: Db; clock?: Clock; smtpUrl?: string; env?: Record<string, string> };

export function testContext(opts: TestAppOptions): AppContext {
  const config = testConfig({ ...(opts.smtpUrl ? { SMTP_URL: opts.smtpUrl } : {}), ...opts.env });
  const clock = opts.clock ?? systemClock;
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const mail = createMailTransport(config.smtpUrl, config.mailFrom);
  const mailPump = createMailPump(
    opts.db,
    mail,
    () => clock.now(),
    (err) => logger.error({ err }, 'mail delivery failed'),
  );
  return { db: opts.db, config, clock, logger, mail, mailPump };
}

export function testApp(opts: TestAppOptions) {
  const ctx = testContext(opts);
  return { ctx, app: createApp(ctx) };
}

/** The CSRF token a page carries in its forms. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html) ?? /"X-CSRF-Token": "([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1]!;
}

/** A cookie-keeping client signed in as `email` (password defaults to the demo one). */
export async function signedInAgent(app: ReturnType<typeof createApp>, email: string, password = 'portico-demo') {
  const agent = supertest.agent(app);
  const page = await agent.get('/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send({ email, password, _csrf: csrfFrom(page.text) });
  if (res.status !== 303) throw new Error(`sign-in as ${email} failed with ${res.status}`);
  const home = await agent.get(res.headers.location!).redirects(3);
  return { agent, csrf: csrfFrom(home.text), landing: res.headers.location! };
}
