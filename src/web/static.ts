import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';

const require = createRequire(import.meta.url);
const publicDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../public');

function packageDist(name: string): { dir: string; version: string } {
  const version = (require(`${name}/package.json`) as { version: string }).version;
  return { dir: path.dirname(require.resolve(name)), version };
}

const htmx = packageDist('htmx.org');
const leaflet = packageDist('leaflet');

/** Content hash of public/, so asset URLs change whenever a file does and can be cached for a year. */
const publicVersion = (() => {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const f of readdirSync(dir).sort()) {
      const p = path.join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else hash.update(f).update(readFileSync(p));
    }
  };
  walk(publicDir);
  return hash.digest('hex').slice(0, 10);
})();

/** URLs of static files, for templates. */
export const assets = {
  url: (file: string) => `/static/${file}?v=${publicVersion}`,
  htmx: `/vendor/htmx-${htmx.version}/htmx.min.js`,
  leafletJs: `/vendor/leaflet-${leaflet.version}/leaflet.js`,
  leafletCss: `/vendor/leaflet-${leaflet.version}/leaflet.css`,
};

export function staticFiles(): express.Router {
  const router = express.Router();
  const forever = { maxAge: '365d', immutable: true, index: false, fallthrough: false } as const;
  // not /assets: that is the asset list's URL (DESIGN.md section 9)
  router.use('/static', express.static(publicDir, forever));
  router.use(`/vendor/htmx-${htmx.version}`, express.static(htmx.dir, forever));
  router.use(`/vendor/leaflet-${leaflet.version}`, express.static(leaflet.dir, forever));
  router.get('/favicon.ico', (_req, res) => {
    res
      .set('Cache-Control', 'public, max-age=86400')
      .type('image/svg+xml')
      .sendFile(path.join(publicDir, 'favicon.svg'));
  });
  return router;
}
