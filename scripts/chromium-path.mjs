import { existsSync } from 'node:fs';

/** Where Chromium is: CHROMIUM_PATH when set, else Debian's /usr/bin/chromium; null when neither exists. */
export function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].filter(Boolean);
  return candidates.find((p) => existsSync(p)) ?? null;
}

export function chromiumPath() {
  const found = findChromium();
  if (!found) throw new Error('Chromium is missing: run `apt-get install chromium` or set CHROMIUM_PATH');
  return found;
}
