import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startChild, type Child } from './children.js';

/** PgBouncer, HAProxy and the Portico instances of the scale test, each a child process on 127.0.0.1. */

const root = path.resolve(import.meta.dirname, '../..');

/** Debian's pgbouncer and haproxy (in /usr/sbin), installed with apt-get when missing, as root; CI needs that. */
export function ensurePackages(): void {
  const missing = ['pgbouncer', 'haproxy'].filter((p) => !existsSync(`/usr/sbin/${p}`));
  if (!missing.length) return;
  if (process.getuid?.() !== 0) {
    console.error(`scale-test: needs Debian's ${missing.join(' and ')}: apt-get install ${missing.join(' ')}`);
    process.exit(2);
  }
  console.log(`installing Debian's ${missing.join(' and ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** PgBouncer in transaction pooling in front of the primary; it queues while the primary restarts, up to 10 s. */
export function startPgBouncer(opts: {
  dir: string;
  logDir: string;
  port: number;
  primaryPort: number;
  lifetimeSeconds: number;
  /** server connections per database and user (24 unless told) */
  poolSize?: number;
  /** the database on the primary that clients reach as `portico` (portico unless told) */
  database?: string;
}): Child {
  const owner = postgresUser(); // pgbouncer refuses to run as root
  mkdirSync(opts.dir, { recursive: true });
  chmodSync(opts.dir, 0o755);
  const users = path.join(opts.dir, 'userlist.txt');
  writeFileSync(users, '"portico" "portico"\n', { mode: 0o600 });
  const ini = path.join(opts.dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      `portico = host=127.0.0.1 port=${opts.primaryPort} dbname=${opts.database ?? 'portico'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${opts.port}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      'max_client_conn = 400',
      `default_pool_size = ${opts.poolSize ?? 24}`,
      'ignore_startup_parameters = extra_float_digits',
      // while the primary is away, a query waits this long for a server connection, then fails (503)
      'query_wait_timeout = 10',
      'server_connect_timeout = 3',
      'server_login_retry = 1',
      '',
    ].join('\n'),
  );
  if (owner) for (const f of [users, ini]) chownSync(f, owner.uid, owner.gid);
  return startChild('pgbouncer', '/usr/sbin/pgbouncer', [ini], {
    ...owner,
    cwd: '/',
    lifetimeSeconds: opts.lifetimeSeconds,
    logDir: opts.logDir,
    stopSignal: 'SIGINT',
  });
}

export type Balancer = {
  child: Child;
  /** takes a server in or out of the rotation, through HAProxy's runtime API */
  setServer(name: string, state: 'ready' | 'maint'): Promise<void>;
  /** each server's state as HAProxy's health checks see it (UP, DOWN, MAINT, …) */
  states(): Promise<Record<string, string>>;
};

/** HAProxy in front of the instances: round robin, /readyz checked every second, refused connections retried. */
export function startHaproxy(opts: {
  dir: string;
  logDir: string;
  port: number;
  servers: { name: string; port: number }[];
  lifetimeSeconds: number;
}): Balancer {
  mkdirSync(opts.dir, { recursive: true });
  const socket = path.join(opts.dir, 'haproxy.sock');
  const cfg = path.join(opts.dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  maxconn 2000',
      `  stats socket ${socket} mode 600 level admin`,
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 60s',
      '  timeout server 60s',
      '  timeout http-request 10s',
      // a request whose connection was refused (the instance is gone) goes to another instance
      '  retries 2',
      '  option redispatch',
      '  retry-on conn-failure empty-response',
      'frontend web',
      `  bind 127.0.0.1:${opts.port}`,
      '  default_backend portico',
      '  http-response set-header X-Served-By %[srv_name]',
      'backend portico',
      '  balance roundrobin',
      '  option httpchk GET /readyz',
      '  http-check expect status 200',
      '  default-server inter 1s fastinter 500ms fall 2 rise 2',
      ...opts.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} check`),
      '',
    ].join('\n'),
  );
  const child = startChild('haproxy', '/usr/sbin/haproxy', ['-f', cfg, '-db'], {
    lifetimeSeconds: opts.lifetimeSeconds,
    logDir: opts.logDir,
    stopSignal: 'SIGUSR1', // soft stop: finish what is in flight
  });
  const command = (line: string) =>
    new Promise<string>((resolve, reject) => {
      const conn = net.createConnection(socket);
      let out = '';
      conn.on('data', (d) => (out += d.toString()));
      conn.on('end', () => resolve(out));
      conn.on('error', reject);
      conn.end(`${line}\n`);
    });
  return {
    child,
    async setServer(name, state) {
      const out = await command(`set server portico/${name} state ${state}`);
      if (out.trim()) throw new Error(`haproxy: ${out.trim()}`);
    },
    async states() {
      const csv = await command('show stat -1 4 -1');
      const header = csv.split('\n')[0]!.replace(/^# /, '').split(',');
      const [sv, st] = [header.indexOf('svname'), header.indexOf('status')];
      const out: Record<string, string> = {};
      for (const line of csv.split('\n').slice(1).filter(Boolean)) {
        const f = line.split(',');
        out[f[sv]!] = f[st]!;
      }
      return out;
    },
  };
}

export type Instance = {
  name: string;
  port: number;
  child: Child | null;
  start(): Promise<void>;
};

/** A Portico instance as production runs it (JOBS on), under tsx like `npm start`; ready when /readyz says so. */
export function portico(opts: {
  name: string;
  port: number;
  env: Record<string, string>;
  dataDir: string;
  logDir: string;
  lifetimeSeconds: number;
}): Instance {
  const instance: Instance = {
    name: opts.name,
    port: opts.port,
    child: null,
    async start() {
      mkdirSync(opts.dataDir, { recursive: true });
      const child = startChild(opts.name, process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: root,
        env: { ...process.env, ...opts.env, PORT: String(opts.port), DATA_DIR: opts.dataDir },
        lifetimeSeconds: opts.lifetimeSeconds,
        logDir: opts.logDir,
        stopSignal: 'SIGTERM',
      });
      instance.child = child;
      await until(`${opts.name} ready`, 180_000, async () => {
        if (!child.running()) throw new Error(`${opts.name} exited while starting:\n${child.tail()}`);
        const status = await fetch(`http://127.0.0.1:${opts.port}/readyz`).then(
          async (res) => (await res.arrayBuffer(), res.status),
          () => 0,
        );
        return status === 200;
      });
    },
  };
  return instance;
}

/** Waits for a condition, checked every 200 ms, for at most `ms`. */
export async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
