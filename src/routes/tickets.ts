import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { allow } from '../web/auth.js';
import { wantsFragment } from '../web/render.js';
import { formText, idParam, orRerender } from '../web/forms.js';
import { type Actor, can } from '../services/access/index.js';
import {
  acceptsComments,
  addCustomerComment,
  assetForNewTicket,
  getTicket,
  listCustomerTickets,
  openTicket,
  setFollowing,
  TICKET_CATEGORIES,
  TICKET_CATEGORY_LABELS,
  TICKET_STATUS_LABELS,
  TICKET_STATUSES,
  ticketFilterFrom,
  type TicketList,
} from '../services/tickets/index.js';
import { msg, type Msg } from '../services/platform/index.js';

/** The customer's tickets: the list, a new ticket, its thread and comments, following it. */

const Params = z.object({ id: idParam() });
const NewTicketQuery = z.object({ asset: formText() });
const NewTicketBody = z.object({
  asset_id: formText(),
  subject: formText(),
  category: formText(),
  message: formText(),
});
/** `from=list`: the quick comment of the ticket list, which answers on the list rather than the ticket. */
const CommentBody = z.object({ body: formText(), from: formText(10) });

const statusOptions = [
  { value: '', label: msg('Any status') },
  ...TICKET_STATUSES.map((s) => ({ value: s, label: TICKET_STATUS_LABELS[s] })),
];
const statusChoices = TICKET_STATUSES.map((s) => ({ value: s, label: TICKET_STATUS_LABELS[s] }));
const categoryOptions = [
  { value: '', label: msg('Choose…') },
  ...TICKET_CATEGORIES.map((c) => ({ value: c, label: TICKET_CATEGORY_LABELS[c] })),
];

type Problems = { errors?: Record<string, Msg>; values?: Record<string, Msg>; status?: number };

/** The list page, shared with the staff twin (admin/tickets.ts): `staff` links rows to the staff pages. */
export function renderTicketList(
  res: Response,
  list: TicketList,
  page: { base: string; staff: boolean; canOpen: boolean; canComment?: boolean },
): void {
  res.renderPage(
    'tickets/index',
    { title: msg('Tickets'), list, ...page, statusOptions, acceptsComments },
    { fragment: 'tickets/_list' },
  );
}

/** One ticket's page, shared with the staff twin: `staff` adds the reply form with the status. */
export async function renderTicket(
  db: AppContext['db'],
  res: Response,
  actor: Actor,
  id: string,
  staff: boolean,
  opts: Problems = {},
): Promise<void> {
  const page = await getTicket(db, actor, id);
  res.renderPage(
    'tickets/show',
    {
      title: msg('#{number} {subject}', { number: String(page.ticket.number), subject: page.ticket.subject }),
      ...page,
      staff,
      statusChoices,
      errors: opts.errors ?? {},
      values: opts.values ?? {},
    },
    { fragment: 'tickets/_thread', status: opts.status },
  );
}

/** After a comment: htmx gets the new thread in place, a plain form goes back to the page. */
export async function commented(
  db: AppContext['db'],
  req: Request,
  res: Response,
  actor: Actor,
  ticket: { id: string; staff: boolean },
  note: Msg,
): Promise<void> {
  if (wantsFragment(req)) return renderTicket(db, res, actor, ticket.id, ticket.staff);
  res.flash('success', note);
  res.redirect(303, `${ticket.staff ? '/admin' : ''}/tickets/${ticket.id}`);
}

export function ticketRoutes(ctx: AppContext): Router {
  const router = Router();

  const renderNew = async (res: Response, actor: Actor, assetId: string, opts: Problems = {}) => {
    const asset = assetId ? await assetForNewTicket(ctx.db, actor, assetId) : null;
    res.renderPage(
      'tickets/new',
      { title: msg('Open a ticket'), asset, categoryOptions, errors: opts.errors ?? {}, values: opts.values ?? {} },
      { status: opts.status },
    );
  };

  /** The list's quick comment form of one ticket, with its note or error, for htmx to swap in place. */
  const renderQuickComment = async (
    res: Response,
    actor: Actor,
    id: string,
    opts: { value?: string; error?: Msg; note?: Msg; status?: number },
  ) => {
    const { ticket } = await getTicket(ctx.db, actor, id);
    res.renderPage(
      'tickets/_quick-comment',
      { ticket: { id: ticket.id, number: ticket.number, title: ticket.subject }, ...opts },
      { status: opts.status },
    );
  };

  /** A quick comment added: htmx gets a fresh form with the note; a plain form goes back to the list. */
  const quickCommented = async (req: Request, res: Response, actor: Actor, id: string) => {
    if (wantsFragment(req)) return renderQuickComment(res, actor, id, { note: msg('Your comment has been added.') });
    const { ticket } = await getTicket(ctx.db, actor, id);
    res.flash('success', msg('Your comment on #{number} has been added.', { number: String(ticket.number) }));
    res.redirect(303, '/tickets');
  };

  /** Follow or stop following a ticket, then back to it with what changed. */
  const following = (follow: boolean, note: Msg) =>
    allow('ticket.follow', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      await setFollowing(ctx.db, actor, id, follow);
      res.flash('success', note);
      res.redirect(303, `/tickets/${id}`);
    });

  router.get(
    '/tickets',
    ...allow('ticket.view', async (req, res, actor) => {
      const list = await listCustomerTickets(ctx.db, actor, ticketFilterFrom(req.query));
      const canComment = can(actor, 'ticket.comment');
      renderTicketList(res, list, { base: '/tickets', staff: false, canOpen: can(actor, 'ticket.open'), canComment });
    }),
  );

  router.get(
    '/tickets/new',
    ...allow('ticket.open', (req, res, actor) => renderNew(res, actor, NewTicketQuery.parse(req.query).asset)),
  );

  router.post(
    '/tickets',
    ...allow('ticket.open', async (req, res, actor) => {
      const form = NewTicketBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { asset_id: assetId, subject, category, message } = form;
          const { id, number } = await openTicket(ctx.db, actor, { assetId, subject, category, message });
          res.flash(
            'success',
            msg('Ticket #{number} is open: {provider} answers here, and you get a mail when they do.', {
              number: String(number),
              provider: actor.tenantName,
            }),
          );
          res.redirect(303, `/tickets/${id}`);
        },
        (errors, status) => renderNew(res, actor, form.asset_id, { errors, values: form, status }),
      );
    }),
  );

  router.get(
    '/tickets/:id',
    ...allow('ticket.view', (req, res, actor) => renderTicket(ctx.db, res, actor, Params.parse(req.params).id, false)),
  );

  router.post(
    '/tickets/:id/comments',
    ...allow('ticket.comment', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = CommentBody.parse(req.body ?? {});
      const quick = form.from === 'list';
      await orRerender(
        async () => {
          await addCustomerComment(ctx.db, actor, id, form.body);
          if (quick) return quickCommented(req, res, actor, id);
          await commented(ctx.db, req, res, actor, { id, staff: false }, msg('Your comment has been added.'));
        },
        (errors, status) =>
          quick && wantsFragment(req)
            ? renderQuickComment(res, actor, id, { value: form.body, error: errors.body ?? errors.form, status })
            : renderTicket(ctx.db, res, actor, id, false, { errors, values: form, status }),
      );
    }),
  );

  router.post(
    '/tickets/:id/following',
    ...following(true, msg('You follow this ticket: you get mail when staff reply or change its status.')),
  );

  router.post('/tickets/:id/following/delete', ...following(false, msg('You no longer follow this ticket.')));

  return router;
}
