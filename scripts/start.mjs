// `npm start`: with NODE_ENV=production, the compiled server in dist/ (`npm run build` first), with
// no tsx or TypeScript at run time; otherwise the TypeScript source through tsx, as in development.
import { existsSync } from 'node:fs';

if (process.env.NODE_ENV === 'production') {
  const entry = new URL('../dist/main.js', import.meta.url);
  if (!existsSync(entry)) {
    console.error('portico: dist/main.js is missing: run `npm run build` first (NODE_ENV=production runs dist/).');
    process.exit(1);
  }
  await import(entry.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
