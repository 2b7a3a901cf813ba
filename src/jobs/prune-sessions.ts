import { pruneExpiredSessions } from '../services/people/index.js';
import type { Job } from './types.js';

export const pruneSessions: Job = {
  name: 'prune-sessions',
  schedule: '*/15 * * * *',
  every: 'Every 15 minutes',
  description: 'Removes signed-in sessions that have expired.',
  counted: 'sessions_removed',
  run: (ctx) => pruneExpiredSessions(ctx.db, ctx.clock.now()),
};
