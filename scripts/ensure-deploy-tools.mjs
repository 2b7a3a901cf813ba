// Runs before `npm test`: the deploy/ tests run nginx -t, nginx itself, openssl and systemd-analyze on the
// shipped files and never skip. As root on Debian it installs Debian's packages for whichever is missing
// (without starting nginx's own service); anywhere else it says in one line what to install.
import { execSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';

const TOOLS = { nginx: 'nginx', openssl: 'openssl', 'systemd-analyze': 'systemd' };
const PATHS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
const has = (tool) => PATHS.some((dir) => existsSync(`${dir}/${tool}`));
const missing = [...new Set(Object.entries(TOOLS).flatMap(([tool, pkg]) => (has(tool) ? [] : [pkg])))];

if (missing.length) {
  const isRoot = process.getuid?.() === 0;
  const isDebian = existsSync('/etc/debian_version');
  if (!isRoot || !isDebian) {
    console.error(
      `portico: the deploy tests need ${missing.join(', ')}: ` +
        `install them (Debian: sudo apt-get install ${missing.join(' ')}).`,
    );
    process.exit(1);
  }
  console.log(`portico: installing Debian's ${missing.join(', ')} for the deploy tests (once)...`);
  // the tests start nginx themselves: keep the package from starting its own on port 80
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')}`, {
      stdio: 'inherit',
      shell: '/bin/sh',
    });
  } catch {
    console.error(`portico: could not install ${missing.join(', ')} with apt-get; install them by hand.`);
    process.exit(1);
  } finally {
    if (ownPolicy) rmSync(policy);
  }
}
