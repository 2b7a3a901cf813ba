import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { allow } from '../../web/auth.js';
import { can } from '../../services/access/index.js';
import { findOutgoingMail, listOutgoingMail, MAIL_STATUSES, retryDeadMail } from '../../services/mail/index.js';
import { formatDateTime } from '../../services/platform/index.js';

const PAGE_SIZES = [10, 25, 50, 100] as const;

// bad list state falls back to the default view rather than an error page
const ListQuery = z.object({
  status: z.enum(MAIL_STATUSES).optional().catch(undefined),
  before: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().catch(undefined),
  size: z.coerce
    .number()
    .int()
    .refine((n) => (PAGE_SIZES as readonly number[]).includes(n))
    .default(25)
    .catch(25),
});

/** The tenant's Outgoing mail page: its outbox, including mail kept because no SMTP server is configured. */
export function adminMailRoutes(ctx: AppContext): Router {
  const router = Router();
  const guard = allow('mail.view');

  router.get('/admin/mail', ...guard, async (req, res) => {
    const query = ListQuery.parse(req.query);
    const { rows, nextBefore } = await listOutgoingMail(ctx.db, req.actor!, query);
    const link = (q: { status?: string; before?: number | null }) => {
      const p = new URLSearchParams();
      if (q.status) p.set('status', q.status);
      if (q.before) p.set('before', String(q.before));
      if (query.size !== 25) p.set('size', String(query.size));
      const s = p.toString();
      return `/admin/mail${s ? `?${s}` : ''}`;
    };
    res.renderPage(
      'admin/mail/index',
      {
        title: 'Outgoing mail',
        rows,
        query,
        statuses: MAIL_STATUSES,
        nextLink: nextBefore ? link({ status: query.status, before: nextBefore }) : null,
        link,
        smtpConfigured: !!ctx.mail,
        canRetry: can(req.actor, 'mail.retry'),
        formatTime: (d: Date | null) => formatDateTime(d, req.actor!.timeZone),
      },
      { fragment: 'admin/mail/_table' },
    );
  });

  router.get('/admin/mail/:id', ...guard, async (req, res) => {
    const id = /^\d{1,15}$/.test(req.params.id as string) ? Number(req.params.id) : null;
    if (!id) throw new NotFoundError();
    const message = await findOutgoingMail(ctx.db, req.actor!, id);
    // kept mail may hold activation and reset links: keep it out of every cache
    res.set('Cache-Control', 'no-store');
    res.renderPage('admin/mail/show', {
      title: message.subject,
      message,
      smtpConfigured: !!ctx.mail,
      canRetry: can(req.actor, 'mail.retry'),
      formatTime: (d: Date | null) => formatDateTime(d, req.actor!.timeZone),
    });
  });

  router.post('/admin/mail/:id/retry', ...allow('mail.retry'), async (req, res) => {
    const id = /^\d{1,15}$/.test(req.params.id as string) ? Number(req.params.id) : null;
    if (!id) throw new NotFoundError();
    const { to } = await retryDeadMail(ctx.db, req.actor!, id, ctx.clock.now());
    ctx.mailPump.kick();
    res.flash(
      'success',
      ctx.mail
        ? `The message to ${to} is queued again and goes out within seconds.`
        : `The message to ${to} is queued again; with no SMTP server configured it is kept here.`,
    );
    res.redirect(303, `/admin/mail/${id}`);
  });

  return router;
}
