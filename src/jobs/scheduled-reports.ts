import { sendScheduledReports } from '../services/reports/index.js';
import type { Job } from './types.js';

export const scheduledReports: Job = {
  name: 'scheduled-reports',
  // hourly: a period starts at midnight in each person's own time zone
  schedule: '5 * * * *',
  every: 'Hourly at 5 past',
  description:
    'Mails the weekly fleet digest (company and group admins, from Monday) and the monthly statement ' +
    "(billing contacts, from the 1st), each once per person and period in the person's time zone, with a CSV attached.",
  run: (ctx) => {
    if (!ctx.links) throw new Error('scheduled reports need the public address and the signing key for their links');
    return sendScheduledReports(ctx.db, { now: ctx.clock.now(), links: ctx.links });
  },
};
