import { deliverDueMail } from '../services/outbox.js';
import type { Job } from './types.js';

/** Drains the outbox; rows are claimed with SKIP LOCKED, so every instance may help. */
export const sendMail: Job = {
  name: 'send-mail',
  schedule: '*/10 * * * * *',
  exclusive: false,
  run: (ctx) => deliverDueMail(ctx.db, ctx.mail, ctx.clock.now()),
};
