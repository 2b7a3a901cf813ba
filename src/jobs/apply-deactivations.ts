import { msg } from '../services/platform/index.js';
import { applyDueDeactivations, todayIn } from '../services/assets/index.js';
import type { Job } from './types.js';

export const applyDeactivations: Job = {
  name: 'apply-deactivations',
  schedule: '10 0 * * *',
  every: msg('Daily at 00:10 UTC'),
  description: 'Deactivates the assets whose requested deactivation takes effect today.',
  counted: 'assets_deactivated',
  run: (ctx) => applyDueDeactivations(ctx.db, todayIn('UTC', ctx.clock.now())),
};
