import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { csrfFrom, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { startProcess, type Child } from '../support/process.js';

const root = path.resolve(import.meta.dirname, '../..');
const SITE = readFileSync(path.join(root, 'deploy/nginx/portico.conf'), 'utf8');
const UNIT = readFileSync(path.join(root, 'deploy/portico.service'), 'utf8');
const HOST = 'portal.example.com';
const work = mkdtempSync(path.join(os.tmpdir(), 'portico-deploy-'));
const { db } = await testDatabase();

/** A self-signed certificate for the site's server_name, as a test stands in for the real one. */
function selfSignedCertificate() {
  const cert = path.join(work, 'portico.crt');
  const key = path.join(work, 'portico.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`,
    '-addext', `subjectAltName=DNS:${HOST}`, '-keyout', key, '-out', cert,
  ], { stdio: 'pipe' }); // prettier-ignore
  return { cert, key };
}

/** The site as shipped, with what a host sets itself: the certificate, and here loopback ports. */
function siteFor(tls: { cert: string; key: string }, ports?: { http: number; https: number; app: number }) {
  let site = SITE.replace(/ssl_certificate (\S+);/, `ssl_certificate ${tls.cert};`).replace(
    /ssl_certificate_key (\S+);/,
    `ssl_certificate_key ${tls.key};`,
  );
  if (ports)
    site = site
      .replace(/^\s*listen \[::\].*$/gm, '')
      .replace('listen 80;', `listen 127.0.0.1:${ports.http};`)
      .replace('listen 443 ssl http2;', `listen 127.0.0.1:${ports.https} ssl http2;`)
      .replace('server 127.0.0.1:3000;', `server 127.0.0.1:${ports.app};`);
  return site;
}

/** The smallest nginx.conf that includes the site, with every file nginx writes inside `dir`. */
function nginxConf(dir: string, site: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'portico.conf'), site);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `${t}_temp_path ${path.join(dir, t)};`)
    .join('\n  ');
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')};
events { worker_connections 64; }
http {
  access_log off;
  ${temp}
  include ${path.join(dir, 'portico.conf')};
}
`,
  );
  return conf;
}

const nginx = (conf: string, ...args: string[]) => [
  '-c',
  conf,
  '-p',
  path.dirname(conf),
  '-e',
  path.join(path.dirname(conf), 'error.log'),
  ...args,
];

describe('deploy/nginx/portico.conf', () => {
  it('passes nginx -t with a certificate in place', () => {
    const conf = nginxConf(path.join(work, 'check'), siteFor(selfSignedCertificate()));
    const checked = spawnSync('nginx', nginx(conf, '-t'), { encoding: 'utf8' });
    expect(checked.stderr).toContain('test is successful');
    expect(checked.status, checked.stderr).toBe(0);
  });
});

describe('Portico behind the nginx site', () => {
  const { app } = testApp({ db, env: { TRUST_PROXY: '1' } });
  let server: http.Server;
  let proxy: Child;
  const ports = { http: 0, https: 0, app: 0 };

  beforeAll(async () => {
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    Object.assign(ports, {
      app: (server.address() as AddressInfo).port,
      http: await freePort(),
      https: await freePort(),
    });
    const conf = nginxConf(path.join(work, 'run'), siteFor(selfSignedCertificate(), ports));
    proxy = startProcess('nginx', nginx(conf, '-g', 'daemon off;'), { cwd: work, env: {} });
    await listening(ports.https);
  });

  afterAll(async () => {
    proxy?.signal('SIGQUIT');
    await proxy?.exited;
    server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('sends plain http to https', async () => {
    const res = await fetchOver('http', '/login');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(`https://${HOST}/login`);
  });

  it('serves the portal over TLS', async () => {
    const res = await fetchOver('https', '/login');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Sign in');
  });

  it('refuses a body larger than Portico takes before it reaches Portico', async () => {
    const res = await fetchOver('https', '/login', { method: 'POST', headers: { 'Content-Length': '30000000' } });
    expect(res.status).toBe(413);
    expect(res.text).toContain('nginx');
  });

  it("with TRUST_PROXY=1, a client's own X-Forwarded-For cannot escape the per-address sign-in limit", async () => {
    const tenant = await makeTenant(db);
    const customer = await makeCustomer(db, tenant.id);
    const user = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
    const page = await fetchOver('https', '/login');
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const signIn = (email: string, password: string, spoofed: string) =>
      fetchOver('https', '/login', {
        method: 'POST',
        headers: { Cookie: cookie, 'X-Forwarded-For': spoofed, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email, password, _csrf: csrfFrom(page.text) }).toString(),
      });
    // every failure claims another address; nginx adds the real one last, and that one is counted
    for (let i = 0; i < 101; i++) {
      const res = await signIn(`nobody-${i}@example.test`, 'wrong', `203.0.113.${i}`);
      expect(res.status).toBe(422);
    }
    const blocked = await signIn(user.email, TEST_PASSWORD, '198.51.100.1');
    expect(blocked.status).toBe(429);
    expect(blocked.text).toContain('Try again in 15 minutes');
  });

  async function listening(port: number) {
    for (let i = 0; i < 200; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => resolve(!!socket.end()));
        socket.on('error', () => resolve(false));
      });
      if (up) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`nginx did not start:\n${proxy.out()}`);
  }

  type Answer = { status: number; headers: http.IncomingHttpHeaders; text: string };
  function fetchOver(
    scheme: 'http' | 'https',
    url: string,
    opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Answer> {
    const body = opts.body ?? '';
    const headers = { Host: HOST, ...(opts.body ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) };
    const common = {
      host: '127.0.0.1',
      path: url,
      method: opts.method ?? 'GET',
      headers: { ...headers, ...opts.headers },
    };
    return new Promise((resolve, reject) => {
      const onResponse = (res: http.IncomingMessage) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      };
      const req =
        scheme === 'http'
          ? http.request({ ...common, port: ports.http }, onResponse)
          : https.request(
              { ...common, port: ports.https, servername: HOST, ca: readFileSync(path.join(work, 'portico.crt')) },
              onResponse,
            );
      req.on('error', reject);
      req.end(body);
    });
  }
});

describe('deploy/portico.service', () => {
  const keys = new Map<string, string[]>();
  for (const line of UNIT.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) keys.set(m[1]!, [...(keys.get(m[1]!) ?? []), m[2]!]);
  }
  const one = (key: string) => keys.get(key)?.at(-1);

  it('runs the compiled server as an unprivileged user, in production, with its settings from a file', () => {
    expect(one('ExecStart')).toBe('node dist/main.js');
    expect(keys.get('Environment')).toContain('NODE_ENV=production');
    expect(keys.get('Environment')).toContain('TRUST_PROXY=1');
    expect(one('EnvironmentFile')).toMatch(/^\/etc\/portico\//);
    expect(one('User')).toBeDefined();
    expect(one('User')).not.toBe('root');
    expect(one('Restart')).toBe('on-failure');
  });

  it('waits longer for a stop than the app drains (25 s) before it kills', () => {
    expect(Number(/^(\d+)s$/.exec(one('TimeoutStopSec') ?? '')?.[1])).toBeGreaterThan(25);
  });

  it('passes systemd-analyze verify without a warning', () => {
    const verified = spawnSync('systemd-analyze', ['verify', path.join(root, 'deploy/portico.service')], {
      encoding: 'utf8',
    });
    expect(verified.stderr).toBe('');
    expect(verified.status).toBe(0);
  });
});
