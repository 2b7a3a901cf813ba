import { pruneOutbox } from '../services/mail/index.js';
import type { Job } from './types.js';

export const pruneOutboxJob: Job = {
  name: 'prune-outbox',
  schedule: '45 3 * * *',
  every: 'Daily at 03:45 UTC',
  description: 'Forgets outgoing mail older than the retention period (MAIL_RETENTION_DAYS, 30 days unless set).',
  counted: 'messages_removed',
  run: (ctx) => pruneOutbox(ctx.db, ctx.clock.now(), ctx.mailRetentionDays),
};
