import { pruneExpiredSessions } from '../services/sessions.js';
import type { Job } from './types.js';

export const pruneSessions: Job = {
  name: 'prune-sessions',
  schedule: '*/15 * * * *',
  run: (ctx) => pruneExpiredSessions(ctx.db, ctx.clock.now()),
};
