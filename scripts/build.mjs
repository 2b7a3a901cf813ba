// `npm run build`: the production server in dist/, compiled JavaScript that runs without tsx or TypeScript.
// dist/ mirrors the source tree (dist/src, dist/migrations, dist/public), so every path a module finds
// relative to itself (views, public files, migrations) is the same compiled as in source; dist/main.js
// is the entry that `NODE_ENV=production npm start` and the systemd unit run.
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(dist, { recursive: true, force: true });
const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) {
  console.error('portico: the build failed: see the compiler errors above.');
  process.exit(1);
}
cpSync(path.join(root, 'src/views'), path.join(dist, 'src/views'), { recursive: true });
cpSync(path.join(root, 'src/locales'), path.join(dist, 'src/locales'), { recursive: true });
cpSync(path.join(root, 'public'), path.join(dist, 'public'), { recursive: true });
writeFileSync(path.join(dist, 'main.js'), "// the production entry: see scripts/build.mjs\nimport './src/main.js';\n");
console.log('portico: built dist/ (start it with NODE_ENV=production npm start, or node dist/main.js)');
