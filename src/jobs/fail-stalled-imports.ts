import { failStalledImports } from '../services/integration/index.js';
import type { Job } from './types.js';

export const failStalledImportsJob: Job = {
  name: 'fail-stalled-imports',
  schedule: '20 * * * * *',
  every: 'Every minute',
  description:
    'Marks failed any running CSV import whose server has given no sign of life for 2 minutes ' +
    '(it stopped mid-import, so nothing was written); the import page says so.',
  counted: 'imports_failed',
  // every minute on every instance that runs jobs: only runs that found something are worth a record
  recordIdleRuns: false,
  run: (ctx) => failStalledImports(ctx.db, ctx.clock.now()),
};
