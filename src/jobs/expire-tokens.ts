import { expireTokens as expireUserTokens } from '../services/platform/index.js';
import type { Job } from './types.js';

export const expireTokens: Job = {
  name: 'expire-tokens',
  schedule: '17 * * * *',
  every: 'Hourly, at 17 minutes past',
  description:
    'Marks activation links, login links and password reset links past their expiry as expired ' +
    '(they are refused at use regardless).',
  counted: 'links_expired',
  run: (ctx) => expireUserTokens(ctx.db, ctx.clock.now()),
};
