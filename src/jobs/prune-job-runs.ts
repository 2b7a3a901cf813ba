import { pruneJobRuns } from '../services/platform/index.js';
import type { Job } from './types.js';

export const pruneJobRunsJob: Job = {
  name: 'prune-job-runs',
  schedule: '30 3 * * *',
  every: 'Daily at 03:30 UTC',
  description: 'Forgets job runs older than 90 days.',
  counted: 'runs_removed',
  run: (ctx) => pruneJobRuns(ctx.db, ctx.clock.now()),
};
