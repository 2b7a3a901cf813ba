import { deliverDueMail } from '../services/mail/index.js';
import type { Job } from './types.js';

/** Drains the outbox; rows are claimed with SKIP LOCKED, so every instance may help. */
export const sendMail: Job = {
  name: 'send-mail',
  schedule: '*/10 * * * * *',
  every: 'Every 10 seconds, on every instance',
  description:
    'Delivers queued mail through the SMTP server; a failed delivery is tried again later, with growing pauses. ' +
    'Runs that found nothing to send are not listed.',
  counted: 'messages_settled',
  exclusive: false,
  recordIdleRuns: false,
  run: (ctx) => deliverDueMail(ctx.db, ctx.mail, ctx.clock.now()),
};
