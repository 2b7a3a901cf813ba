import { endLapsedViews } from '../services/people/index.js';
import type { Job } from './types.js';

/**
 * A staff member's "view as" ends by itself after 30 minutes; a request finds it so and ends it, but one
 * may never come (a closed tab). This ends it in the customer's audit log all the same, once.
 */
export const endLapsedViewsJob: Job = {
  name: 'end-lapsed-views',
  schedule: '*/5 * * * *',
  every: 'Every 5 minutes',
  description: 'Ends in the audit log the staff views as a customer user whose 30 minutes have passed.',
  counted: 'views_ended',
  run: (ctx) => endLapsedViews(ctx.db, ctx.clock.now()),
};
