import { readdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { demoId, seedDemo } from '../../src/demo/data.js';
import supertest from 'supertest';
import { csrfFrom, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

/**
 * File uploads are read only by the route that takes them, after the role and the CSRF token (header,
 * or the form's query string) were checked, a few at a time, into a bounded temporary file.
 */

const { db } = await testDatabase();
await seedDemo(db);
const { app, ctx } = testApp({ db });
const server = await new Promise<http.Server>((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
const { port } = server.address() as AddressInfo;
const uploadsDir = path.join(ctx.config.dataDir, 'uploads');
/** Files being uploaded or kept from uploads, in this instance's folder of uploads. */
const uploadsInProgress = async () =>
  (await readdir(uploadsDir, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile())
    .length;

const MB = 1024 * 1024;
const BOUNDARY = 'portico-test-boundary';
const head = (name = 'big.csv') =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nlocations\r\n` +
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/csv\r\n\r\n`;
const tail = `\r\n--${BOUNDARY}--\r\n`;

type Sent = {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  sentBeforeAnswer: number;
  total: number;
};

/**
 * A multipart POST of `fileBytes` that keeps sending until the server answers: says how much of the body
 * had been written when the answer came. An answer before the last byte means the body was not awaited.
 * `hold` stops after the first megabyte and waits for `release` before sending the rest.
 */
function postFile(
  url: string,
  headers: Record<string, string>,
  fileBytes: number,
  opts: { hold?: Promise<void>; name?: string } = {},
): Promise<Sent> {
  const first = Buffer.from(head(opts.name));
  const last = Buffer.from(tail);
  const total = first.length + fileBytes + last.length;
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered: Omit<Sent, 'body'> | null = null;
    const req = http.request(`http://127.0.0.1:${port}${url}`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`, 'Content-Length': total },
    });
    req.on('response', (res) => {
      answered = { status: res.statusCode!, headers: res.headers, sentBeforeAnswer: sent, total };
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ ...answered!, body });
        req.destroy();
      });
    });
    // once answered, the server may stop listening: what the client could not send no longer matters
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const write = (chunk: Buffer) =>
      new Promise<void>((done) => {
        sent += chunk.length;
        if (!req.write(chunk)) req.once('drain', done);
        else done();
      });
    void (async () => {
      await write(first);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      for (let left = fileBytes; left > 0 && !answered; left -= chunk.length) {
        await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
        if (opts.hold && sent >= MB) {
          await opts.hold;
          opts = { ...opts, hold: undefined };
        }
      }
      if (!answered) {
        await write(last);
        req.end();
      }
    })().catch(reject);
  });
}

/** A signed-in person: their session cookie and page token, and a client that carries the same cookie. */
async function session(email: string) {
  const login = await supertest(app).get('/login');
  const anonymous = cookieOf(login.headers['set-cookie']);
  const signIn = await supertest(app)
    .post('/login')
    .set('Cookie', anonymous)
    .type('form')
    .send({ email, password: 'portico-demo', _csrf: csrfFrom(login.text) });
  expect(signIn.status).toBe(303);
  const cookie = cookieOf(signIn.headers['set-cookie']);
  const page = await supertest(app).get('/settings').set('Cookie', cookie);
  return {
    cookie,
    csrf: csrfFrom(page.text),
    get: (url: string) => supertest(app).get(url).set('Cookie', cookie),
    post: (url: string) => supertest(app).post(url).set('Cookie', cookie),
  };
}
const cookieOf = (setCookie: string[] | string | undefined) =>
  [setCookie ?? []]
    .flat()
    .map((c) => c.split(';')[0]!)
    .join('; ');

describe('a multipart POST to a route that takes no file', () => {
  it('is refused without its token before the body is read, and nothing is kept', async () => {
    const owner = await session('owner@northwind.test');
    const res = await postFile('/logout', { Cookie: owner.cookie }, 64 * MB);
    expect(res.status).toBe(403);
    expect(res.body).toContain('The form was out of date.');
    expect(res.sentBeforeAnswer).toBeLessThan(res.total);
    expect(await uploadsInProgress()).toBe(0);
  });

  it('is answered with its token without reading the body: the sign-out happens, the file goes nowhere', async () => {
    const owner = await session('owner@northwind.test');
    const res = await postFile('/logout', { Cookie: owner.cookie, 'X-CSRF-Token': owner.csrf }, 64 * MB);
    expect(res.status).toBe(303);
    expect(res.sentBeforeAnswer).toBeLessThan(res.total);
    expect((await owner.get('/settings')).headers.location).toMatch(/^\/login/);
    expect(await uploadsInProgress()).toBe(0);
  });
});

describe('a multipart POST to the import, which takes a file', () => {
  it('is refused to a role that may not import before the body is read, token or not', async () => {
    for (const email of ['owner@northwind.test', 'support@demo.test', 'sites@northwind.test']) {
      const who = await session(email);
      const res = await postFile('/admin/imports', { Cookie: who.cookie, 'X-CSRF-Token': who.csrf }, 64 * MB);
      expect(res.status, email).toBe(403);
      expect(res.body).toContain('Your role does not allow this.');
      expect(res.sentBeforeAnswer, email).toBeLessThan(res.total);
    }
    expect(await uploadsInProgress()).toBe(0);
  });

  it('is refused to a tenant admin without the token before the body is read', async () => {
    const admin = await session('admin@demo.test');
    const res = await postFile('/admin/imports', { Cookie: admin.cookie }, 64 * MB);
    expect(res.status).toBe(403);
    expect(res.body).toContain('The form was out of date.');
    expect(res.sentBeforeAnswer).toBeLessThan(res.total);
    expect(await uploadsInProgress()).toBe(0);
  });

  it('refuses a file larger than 20 MB without reading it all, and keeps nothing of it', async () => {
    const admin = await session('admin@demo.test');
    const before = await db('data_imports').count({ n: '*' }).first();
    const res = await postFile(
      `/admin/imports?_csrf=${encodeURIComponent(admin.csrf)}`,
      { Cookie: admin.cookie },
      64 * MB,
    );
    expect(res.status).toBe(422);
    expect(res.body).toContain('The file is larger than 20 MB: split it.');
    expect(res.sentBeforeAnswer).toBeLessThan(res.total);
    expect(await db('data_imports').count({ n: '*' }).first()).toEqual(before);
    expect(await uploadsInProgress()).toBe(0);
  });

  it('cuts a file that turns out larger than 20 MB at the limit, and keeps nothing of it', async () => {
    const admin = await session('admin@demo.test');
    const res = await postFile(
      `/admin/imports?_csrf=${encodeURIComponent(admin.csrf)}`,
      { Cookie: admin.cookie },
      20 * MB + 100 * 1024,
    );
    expect(res.status).toBe(422);
    expect(res.body).toContain('The file is larger than 20 MB: split it.');
    expect(await uploadsInProgress()).toBe(0);
  });

  it('takes the form with the token in its address, as a browser without JavaScript sends it', async () => {
    const admin = await session('admin@demo.test');
    const form = await admin.get('/admin/imports');
    expect(form.text).toContain(`action="/admin/imports?_csrf=${encodeURIComponent(admin.csrf)}"`);
    const identifier = (await db('assets')
      .where({ tenant_id: demoId('tenant:demo') })
      .first('identifier'))!.identifier as string;
    const res = await admin
      .post(`/admin/imports?_csrf=${encodeURIComponent(admin.csrf)}`)
      .field('kind', 'locations')
      .attach(
        'file',
        Buffer.from(`identifier,latitude,longitude,recorded_at\n${identifier},53.4,-2.2,2026-11-01T10:00:00Z\n`),
        'one.csv',
      );
    expect(res.status).toBe(303);
    expect((await admin.get(res.headers.location!)).text).toContain('passed the checks');
    expect(await uploadsInProgress()).toBe(0);
  });

  it('reads two uploads at a time; a third is told to come back (503, Retry-After) unread', async () => {
    const admin = await session('admin@demo.test');
    const url = `/admin/imports?_csrf=${encodeURIComponent(admin.csrf)}`;
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const held = [1, 2].map(() => postFile(url, { Cookie: admin.cookie }, 2 * MB, { hold }));
    // both are being read once each has its temporary file
    while ((await uploadsInProgress()) < 2) await sleep(20);
    const third = await postFile(url, { Cookie: admin.cookie }, 8 * MB);
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBe('5');
    expect(third.sentBeforeAnswer).toBeLessThan(third.total);
    release();
    // the held files are read to their end and answered (a run of a's is no CSV: the form says so), and
    // then the slots are free again
    const answers = await Promise.all(held);
    expect(answers.map((r) => [r.status, r.sentBeforeAnswer === r.total])).toEqual([
      [422, true],
      [422, true],
    ]);
    expect(await uploadsInProgress()).toBe(0);
    const fourth = await postFile(url, { Cookie: admin.cookie }, 1024);
    expect(fourth.status).toBe(422);
    expect(fourth.body).toContain('id="f-file-error"');
  });
});
