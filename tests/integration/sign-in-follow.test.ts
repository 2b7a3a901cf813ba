import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/**
 * A client that follows a redirect the moment its headers arrive (no cookie jar library, no pause)
 * must land signed in: the session is stored before the answer leaves.
 */

const { db } = await testDatabase();
const { app } = testApp({ db });
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
afterAll(() => new Promise((resolve) => server.close(resolve)));
const { port } = server.address() as AddressInfo;
// a new connection for every request, as a browser's parallel connections would be
const agent = new http.Agent({ keepAlive: false });

const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id);
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const companyAdmin = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });

type Answer = { status: number; headers: http.IncomingHttpHeaders; res: http.IncomingMessage };

/** Resolves as soon as the status line and headers are in, before the body. */
function send(method: string, path: string, opts: { cookie?: string; form?: Record<string, string> } = {}) {
  const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          ...(opts.cookie ? { cookie: opts.cookie } : {}),
          ...(body
            ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }
            : {}),
        },
      },
      (res) => resolve({ status: res.statusCode!, headers: res.headers, res }),
    );
    req.on('error', reject);
    req.end(body);
  });
}

const readBody = (res: http.IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });

const cookieOf = (a: Answer) => String(a.headers['set-cookie']?.[0] ?? '').split(';')[0]!;

/** Signs in and follows the 303 at once, with the cookie it set; the page it lands on. */
async function signInAndFollow(email: string, next = '') {
  const form = await send('GET', '/login');
  const html = await readBody(form.res);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
  const signedIn = await send('POST', '/login', {
    cookie: cookieOf(form),
    form: { email, password: TEST_PASSWORD, next, _csrf: csrf },
  });
  expect(signedIn.status).toBe(303);
  const location = signedIn.headers.location!;
  const landed = await send('GET', location, { cookie: cookieOf(signedIn) });
  // the rest of both answers is read only now, as a client that follows at once would
  await Promise.all([readBody(signedIn.res), readBody(landed.res)]);
  return { location, status: landed.status, redirectedTo: landed.headers.location };
}

describe('following the sign-in redirect at once', () => {
  it('lands signed in 100 times in a row', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 100; i++) {
      const { location, status, redirectedTo } = await signInAndFollow(admin.email);
      expect(location).toBe('/admin/customers');
      outcomes.push(status === 200 ? 'signed in' : `${status} to ${redirectedTo}`);
    }
    expect(outcomes.filter((o) => o !== 'signed in')).toEqual([]);
    // a hundred argon2 sign-ins on a shared 2-core machine: time enough, whatever else runs
  }, 300_000);

  it('keeps the new session after a role switch followed at once', async () => {
    const elsewhere = await makeCustomer(db, tenant.id);
    const [second] = (await db('memberships')
      .insert({ tenant_id: tenant.id, user_id: companyAdmin.id, role: 'company_admin', customer_id: elsewhere.id })
      .returning('id')) as { id: string }[];
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) {
      const form = await send('GET', '/login');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await readBody(form.res))![1]!;
      const signedIn = await send('POST', '/login', {
        cookie: cookieOf(form),
        form: { email: companyAdmin.email, password: TEST_PASSWORD, next: '/session/membership', _csrf: csrf },
      });
      await readBody(signedIn.res);
      const page = await send('GET', '/session/membership', { cookie: cookieOf(signedIn) });
      const token = /name="_csrf" value="([^"]+)"/.exec(await readBody(page.res))![1]!;
      const switched = await send('POST', '/session/membership', {
        cookie: cookieOf(signedIn),
        form: { membership_id: second!.id, _csrf: token },
      });
      expect(switched.status).toBe(303);
      const landed = await send('GET', '/settings', { cookie: cookieOf(switched) });
      await Promise.all([readBody(switched.res), readBody(landed.res)]);
      outcomes.push(landed.status === 200 ? 'signed in' : `${landed.status} to ${landed.headers.location}`);
    }
    expect(outcomes.filter((o) => o !== 'signed in')).toEqual([]);
  }, 120_000);

  it('shows the message a form leaves on the page its redirect leads to, 50 times in a row', async () => {
    const form = await send('GET', '/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await readBody(form.res))![1]!;
    const signedIn = await send('POST', '/login', {
      cookie: cookieOf(form),
      form: { email: companyAdmin.email, password: TEST_PASSWORD, next: '/settings', _csrf: csrf },
    });
    await readBody(signedIn.res);
    const cookie = cookieOf(signedIn);
    const page = await send('GET', '/settings', { cookie });
    const token = /name="_csrf" value="([^"]+)"/.exec(await readBody(page.res))![1]!;
    const outcomes: string[] = [];
    for (let i = 0; i < 50; i++) {
      const saved = await send('POST', '/settings/profile', {
        cookie,
        form: { name: `Casey ${i}`, timeZone: 'UTC', _csrf: token },
      });
      expect(saved.status).toBe(303);
      const landed = await send('GET', saved.headers.location!, { cookie });
      const [, html] = await Promise.all([readBody(saved.res), readBody(landed.res)]);
      outcomes.push(html.includes('Your profile has been saved.') ? 'told' : `${landed.status} without the message`);
    }
    expect(outcomes.filter((o) => o !== 'told')).toEqual([]);
  }, 120_000);
});
