import { say, type BenchSuite } from './harness.js';
import { benchJobs } from './jobs.js';
import { ensureAssets } from './suite-assets.js';

/**
 * The renewal and reminder jobs over every subscription of the `BENCH_ASSETS` generated assets
 * (the same ones the `assets` suite lists), with no server running: `BENCH_ONLY=jobs` measures
 * them without the list's runs.
 */
export const jobsSuite: BenchSuite = {
  name: 'jobs',
  async run(ctx) {
    await ensureAssets(ctx.db);
    for (const line of await benchJobs(ctx.db)) say(line);
  },
};
