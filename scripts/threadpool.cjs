// Preloaded with `node --require ./scripts/threadpool.cjs` (npm start, the bench): sizes libuv's thread pool
// before anything uses it (an ES module entry is read through the pool, so setting it from src/main.ts is too
// late). argon2 hashes run there beside files, DNS and gzip: the cores (services/people/passwords.ts admits
// one fewer hash at once) plus three. A value set in the environment wins.
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports, no-undef -- a CommonJS preload, on purpose
const os = require('node:os');

process.env.UV_THREADPOOL_SIZE ||= String(Math.max(4, os.availableParallelism() + 3));
