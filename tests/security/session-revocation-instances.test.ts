import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { startServer, type RunningServer } from '../support/processes.js';

/**
 * Two app processes on one database, as behind a load balancer: a session ended on one instance is
 * refused by the other at its very next request, whatever either instance read or kept of it before.
 */

const { db, url } = await testDatabase();
const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Acme Freight' });
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const newCompanyAdmin = () => makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
const SESSION_SECRET = randomBytes(32).toString('base64url');
const NEW_PASSWORD = 'a brand new passphrase for acme';

type Instance = { base: string; server: RunningServer };
let a: Instance;
let b: Instance;

async function startInstance(): Promise<Instance> {
  const port = await freePort();
  const server = await startServer(
    {
      NODE_ENV: 'production',
      DATABASE_URL: url,
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'portico-instance-')),
      PORT: String(port),
      BASE_URL: `http://127.0.0.1:${port}`,
      JOBS: 'off',
      SESSION_SECRET,
    },
    /Portico is ready at/,
  );
  return { base: `http://127.0.0.1:${port}`, server };
}

beforeAll(async () => {
  // one after the other: each migrates the database as it starts
  a = await startInstance();
  b = await startInstance();
}, 120_000);

afterAll(async () => {
  for (const i of [a, b]) if (i) expect((await i.server.stop()).code).toBe(0);
});

/** A cookie jar of one: the session cookie, sent to whichever instance is asked. */
type Browser = { cookie: string };

async function request(i: Instance, who: Browser, pathname: string, form?: Record<string, string>) {
  const res = await fetch(i.base + pathname, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: { cookie: who.cookie, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  const set = res.headers.getSetCookie().find((c) => c.startsWith('portico.sid='));
  if (set) who.cookie = set.split(';')[0]!;
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html) ?? /"X-CSRF-Token": "([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the page');
  return m[1]!;
}

async function signIn(i: Instance, email: string, password = TEST_PASSWORD): Promise<Browser> {
  const who = { cookie: '' };
  const page = await request(i, who, '/login');
  const res = await request(i, who, '/login', { email, password, _csrf: csrfFrom(page.text) });
  expect(res.status).toBe(303);
  return who;
}

/** Whether the cookie still signs its holder in on that instance: a signed-out one is sent to the sign-in page. */
async function signedInOn(i: Instance, who: Browser): Promise<boolean> {
  const res = await request(i, who, '/settings');
  if (res.status === 200) return true;
  expect(res.status).toBe(303);
  expect(res.location).toMatch(/^\/login/);
  return false;
}

describe('a session ended on one instance', () => {
  it('is refused by the other instance at its next request after a password change there', async () => {
    const user = await newCompanyAdmin();
    const here = await signIn(a, user.email);
    const elsewhere = await signIn(b, user.email);
    // both instances have served both sessions before the change
    for (const i of [a, b]) {
      expect(await signedInOn(i, here)).toBe(true);
      expect(await signedInOn(i, elsewhere)).toBe(true);
    }

    const settings = await request(a, here, '/settings');
    const changed = await request(a, here, '/settings/password', {
      current: TEST_PASSWORD,
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
      _csrf: csrfFrom(settings.text),
    });
    expect(changed.status).toBe(303);

    expect(await signedInOn(b, elsewhere)).toBe(false);
    // the session that changed the password goes on, on either instance
    expect(await signedInOn(b, here)).toBe(true);
    expect(await signedInOn(a, here)).toBe(true);
    expect(await signedInOn(b, await signIn(b, user.email, NEW_PASSWORD))).toBe(true);
  });

  it('is refused by the other instance at its next request after staff end all sessions there', async () => {
    const user = await newCompanyAdmin();
    const theirs = await signIn(b, user.email);
    expect(await signedInOn(b, theirs)).toBe(true);
    expect(await signedInOn(a, theirs)).toBe(true);

    const staff = await signIn(a, admin.email);
    const userPage = `/admin/customers/${customer.id}/users/${user.id}`;
    const confirm = await request(a, staff, `${userPage}/sessions/delete`);
    expect(confirm.status).toBe(200);
    const done = await request(a, staff, `${userPage}/sessions/delete`, { _csrf: csrfFrom(confirm.text) });
    expect(done.status).toBe(303);

    expect(await signedInOn(b, theirs)).toBe(false);
    expect(await signedInOn(a, theirs)).toBe(false);
  });
});
