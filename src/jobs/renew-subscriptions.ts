import { msg } from '../services/platform/index.js';
import { renewDueSubscriptions, todayIn } from '../services/assets/index.js';
import type { Job } from './types.js';

export const renewSubscriptions: Job = {
  name: 'renew-subscriptions',
  schedule: '5 0 * * *',
  every: msg('Daily at 00:05 UTC'),
  description:
    'Renews yearly and quarterly terms that ended without a deactivation (flagged until the customer confirms). ' +
    'Monthly plans run by the calendar month with nothing to write; it counts those that rolled over.',
  // monthly rollovers are counted, not written
  touches: ['renewed'],
  run: (ctx) => renewDueSubscriptions(ctx.db, todayIn('UTC', ctx.clock.now())),
};
