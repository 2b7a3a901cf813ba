#!/usr/bin/env node
// `npx portico …`: the compiled command line (dist/cli.js, from `npm run build`) when there is one,
// otherwise the TypeScript source run through tsx, as `npm start` runs the server in development.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli.js', import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli.ts', import.meta.url).href);
}
