import { describeBreak, verifyAuditChainsAndNotify } from '../services/platform/index.js';
import type { Job } from './types.js';

export const verifyAuditChainsJob: Job = {
  name: 'verify-audit-chains',
  schedule: '15 2 * * *',
  every: 'Daily at 02:15 UTC',
  description:
    "Recomputes every tenant's audit log hash chain; a broken chain fails the run, naming the first altered " +
    'entry, and mails the operators.',
  run: async (ctx) => {
    const report = await verifyAuditChainsAndNotify(ctx.db);
    if (report.broken.length) throw new Error(report.broken.map(describeBreak).join('; '));
    return { chains_verified: report.chains, entries_verified: report.entries };
  },
};
