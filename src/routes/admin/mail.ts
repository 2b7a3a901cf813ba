import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { allow } from '../../web/auth.js';
import { formText, pageSizeParam } from '../../web/forms.js';
import { can, isOperator } from '../../services/access/index.js';
import {
  findOutgoingMail,
  listOutgoingMail,
  MAIL_STATUSES,
  type MailReader,
  retryDeadMail,
} from '../../services/mail/index.js';
import { cursorParam, decodeSafeIdCursor, DEFAULT_PAGE_SIZE, listHref, msg } from '../../services/platform/index.js';

/**
 * The tenant's Outgoing mail page: its outbox, including mail kept because no SMTP server is configured.
 * The operator's page of the whole deployment's mail (routes/operator/mail.ts) shows it the same way.
 */

// a bad filter or size falls back to the default view; a bad cursor answers 400
const ListQuery = z.object({
  status: z.enum(MAIL_STATUSES).optional().catch(undefined),
  before: z
    .unknown()
    .optional()
    .transform((v) => cursorParam(v, decodeSafeIdCursor) ?? undefined),
  size: pageSizeParam(),
});
// an id that cannot be a message's is as unknown as one that is not there (checked by the handler: 404)
const Params = z.object({ id: formText().transform((v) => (/^\d{1,15}$/.test(v) ? Number(v) : null)) });

type ListState = z.infer<typeof ListQuery>;

/** The list's URL with the state to keep: a status filter, the page (`before`), a size other than the default. */
function mailListLink(base: string, query: ListState, q: { status?: string; before?: number | null }) {
  return listHref(base, { status: q.status, before: q.before, size: query.size }, { size: DEFAULT_PAGE_SIZE });
}

/**
 * An outbox's list and one of its messages, at `base`: the tenant admin's page (their tenant's mail) and
 * the operator's (the whole deployment's). The service decides which outbox a reader reaches.
 */
export function outgoingMailPages(ctx: AppContext, base: '/admin/mail' | '/operator/mail') {
  /** What the list and a message show mail with. */
  const mailView = (reader: MailReader) => ({
    mailBase: base,
    smtpConfigured: !!ctx.mail,
    canRetry: can(reader, 'mail.retry'),
    showTenant: isOperator(reader),
  });
  return {
    async list(req: Request, res: Response, reader: MailReader) {
      const query = ListQuery.parse(req.query);
      const { rows, nextBefore } = await listOutgoingMail(ctx.db, reader, query);
      const link = (q: { status?: string; before?: number | null }) => mailListLink(base, query, q);
      res.renderPage(
        'admin/mail/index',
        {
          title: msg('Outgoing mail'),
          rows,
          query,
          statuses: MAIL_STATUSES,
          nextLink: nextBefore ? link({ status: query.status, before: nextBefore }) : null,
          link,
          ...mailView(reader),
        },
        { fragment: 'admin/mail/_table' },
      );
    },
    async show(req: Request, res: Response, reader: MailReader) {
      const { id } = Params.parse(req.params);
      if (!id) throw new NotFoundError();
      const revealKept = ctx.config.env !== 'production';
      const message = await findOutgoingMail(ctx.db, reader, id, { revealKept });
      // kept mail may hold activation and reset links: keep it out of every cache
      res.set('Cache-Control', 'no-store');
      res.renderPage('admin/mail/show', {
        // a subject is the mail's own text, not a message of the catalog
        title: msg('{subject}', { subject: message.subject }),
        message,
        ...mailView(reader),
      });
    },
  };
}

export function adminMailRoutes(ctx: AppContext): Router {
  const router = Router();
  const pages = outgoingMailPages(ctx, '/admin/mail');
  router.get('/admin/mail', ...allow('mail.view', pages.list));
  router.get('/admin/mail/:id', ...allow('mail.view', pages.show));

  router.post(
    '/admin/mail/:id/retry',
    ...allow('mail.retry', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      if (!id) throw new NotFoundError();
      const { to } = await retryDeadMail(ctx.db, actor, id, ctx.clock.now());
      res.flash(
        'success',
        ctx.mail
          ? msg('The message to {to} is queued again and goes out within seconds.', { to })
          : msg('The message to {to} is queued again; with no SMTP server configured it is kept here.', { to }),
      );
      res.redirect(303, `/admin/mail/${id}`);
    }),
  );

  return router;
}
