import { pruneIdempotencyKeys } from '../services/integration/index.js';
import type { Job } from './types.js';

export const pruneIdempotencyKeysJob: Job = {
  name: 'prune-idempotency-keys',
  schedule: '40 3 * * *',
  every: 'Daily at 03:40 UTC',
  description: 'Forgets the answers kept for API retries once they are a day old.',
  counted: 'keys_removed',
  run: (ctx) => pruneIdempotencyKeys(ctx.db, ctx.clock.now()),
};
