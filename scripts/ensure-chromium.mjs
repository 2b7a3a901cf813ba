// Runs before `npm test`: browser tests never skip, so Chromium must be there.
// As root on Debian it installs Debian's package; anywhere else it says in one line what to do.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findChromium } from './chromium-path.mjs';

if (!findChromium()) {
  const isRoot = process.getuid?.() === 0;
  const isDebian = existsSync('/etc/debian_version');
  if (!isRoot || !isDebian) {
    console.error(
      'portico: browser tests need Chromium: install it (Debian: `sudo apt-get install chromium`) ' +
        'or set CHROMIUM_PATH.',
    );
    process.exit(1);
  }
  console.log("portico: Chromium is missing; installing Debian's chromium package (once)...");
  try {
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', {
      stdio: 'inherit',
      shell: '/bin/sh',
    });
  } catch {
    console.error(
      'portico: could not install Chromium with apt-get; install the chromium package or set CHROMIUM_PATH.',
    );
    process.exit(1);
  }
  if (!findChromium()) {
    console.error('portico: apt-get finished but /usr/bin/chromium is still missing; set CHROMIUM_PATH.');
    process.exit(1);
  }
}
