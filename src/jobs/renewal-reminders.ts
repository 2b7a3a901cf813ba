import { msg } from '../services/platform/index.js';
import { sendRenewalReminders } from '../services/assets/index.js';
import type { Job } from './types.js';

export const renewalReminders: Job = {
  name: 'renewal-reminders',
  schedule: '0 6 * * *',
  every: msg('Daily at 06:00 UTC'),
  description:
    'Mails company admins and the people assigned to a group about yearly and quarterly subscriptions ' +
    'renewing within 4 weeks: one mail a week, four in all, listing all their assets due.',
  run: (ctx) => {
    if (!ctx.links) throw new Error('renewal reminders need the public address and the signing key for their links');
    return sendRenewalReminders(ctx.db, { now: ctx.clock.now(), links: ctx.links });
  },
};
