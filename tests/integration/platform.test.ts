import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { fixedClock } from '../../src/clock.js';
import { runJob } from '../../src/jobs/scheduler.js';
import { pruneSessions } from '../../src/jobs/prune-sessions.js';
import { runExclusively } from '../../src/services/platform/job-lock.js';
import { seedDemo } from '../../src/demo/data.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db });
const http = supertest(app);

describe('operations endpoints', () => {
  it('answers /healthz while the process is up and /readyz while the database answers', async () => {
    expect((await http.get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
  });

  it('answers /readyz 503 once the process is stopping, though the database still answers', async () => {
    const stopping = testApp({ db });
    const draining = createApp({ ...stopping.ctx, draining: () => true });
    const res = await supertest(draining).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'draining' });
    expect((await supertest(draining).get('/healthz')).status).toBe(200);
  });
});

describe('pages and security headers', () => {
  it('serves the sign-in page with a CSP that forbids inline script and a no-referrer policy', async () => {
    const res = await http.get('/login');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<h1>Sign in</h1>');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends an anonymous visitor to sign in and back to the page they asked for', async () => {
    const res = await http.get('/?x=1');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2F%3Fx%3D1');
  });

  it('tells htmx to redirect instead of swapping the sign-in page into a fragment', async () => {
    const res = await http.get('/').set('HX-Request', 'true');
    expect(res.headers['hx-redirect']).toBe('/login?next=%2F');
  });

  it('shows a full 404 page, or a short alert retargeted for htmx', async () => {
    const page = await http.get('/no-such-page');
    expect(page.status).toBe(404);
    expect(page.text).toContain('<h1>Not found</h1>');
    expect(page.text).toContain('<html');
    const fragment = await http.get('/no-such-page').set('HX-Request', 'true');
    expect(fragment.status).toBe(404);
    expect(fragment.headers['hx-retarget']).toBe('#alerts');
    expect(fragment.text).not.toContain('<html');
    expect(fragment.text).toContain('role="alert"');
  });

  it('serves htmx from its npm package with a year-long cache', async () => {
    const login = await http.get('/login');
    const src = /<script src="([^"]+htmx[^"]+)"/.exec(login.text)![1]!;
    const res = await http.get(src);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toContain('max-age=31536000');
    expect(res.headers['cache-control']).toContain('immutable');
  });

  it('serves a favicon so browsers log no error', async () => {
    expect((await http.get('/favicon.ico')).status).toBe(200);
  });
});

describe('CSRF protection', () => {
  it('refuses a form posted without the token, and accepts it with the token', async () => {
    const agent = supertest.agent(app);
    const page = await agent.get('/login');
    const refused = await agent
      .post('/login')
      .type('form')
      .send({ email: 'owner@northwind.test', password: 'portico-demo' });
    expect(refused.status).toBe(403);
    expect((await agent.get('/')).status).toBe(303); // still signed out
    const wrong = await agent
      .post('/login')
      .type('form')
      .send({ email: 'owner@northwind.test', password: 'portico-demo', _csrf: 'nope' });
    expect(wrong.status).toBe(403);
    const ok = await agent
      .post('/login')
      .type('form')
      .send({ email: 'owner@northwind.test', password: 'portico-demo', _csrf: csrfFrom(page.text) });
    expect(ok.status).toBe(303);
  });

  it('accepts the token in the X-CSRF-Token header that htmx sends', async () => {
    const { agent, csrf } = await signedInAgent(app, 'owner@northwind.test');
    const res = await agent.post('/logout').set('X-CSRF-Token', csrf).set('HX-Request', 'true');
    expect(res.status).toBe(303);
    expect((await agent.get('/')).status).toBe(303);
  });
});

describe('scheduled jobs', () => {
  it('prunes expired sessions and keeps live ones', async () => {
    await db('session').insert([
      { sid: 'old', sess: JSON.stringify({ cookie: {} }), expire: new Date('2026-01-01T00:00:00Z') },
      { sid: 'live', sess: JSON.stringify({ cookie: {} }), expire: new Date('2030-01-01T00:00:00Z') },
    ]);
    const outcome = await runJob(pruneSessions, { db, clock: fixedClock('2026-06-01T00:00:00Z'), mail: null });
    expect(outcome).toEqual({ ran: true, count: 1 });
    expect(await db('session').whereIn('sid', ['old', 'live']).pluck('sid')).toEqual(['live']);
  });

  it('runs a job in one instance at a time: a second runner skips while the first holds the lock', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = runExclusively(db, 'demo-job', async () => {
      await held;
      return 'first';
    });
    await new Promise((r) => setTimeout(r, 100));
    const second = await runExclusively(db, 'demo-job', async () => 'second');
    release();
    expect(second).toEqual({ ran: false });
    expect(await first).toEqual({ ran: true, result: 'first' });
  });
});
