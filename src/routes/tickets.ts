import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { allow } from '../web/auth.js';
import { wantsFragment } from '../web/render.js';
import { can } from '../services/access/index.js';
import {
  addCustomerComment,
  assetForNewTicket,
  getTicket,
  listCustomerTickets,
  listStaffTickets,
  openTicket,
  setFollowing,
  staffUpdateTicket,
  TICKET_CATEGORIES,
  TICKET_CATEGORY_LABELS,
  TICKET_STATUS_LABELS,
  TICKET_STATUSES,
  ticketFilterFrom,
} from '../services/tickets/index.js';
import { formText, orRerender } from '../web/forms.js';

/** Tickets: the customer's list, new ticket, thread and comments; the staff list, replies and status changes. */

const NewTicketBody = z.object({
  asset_id: formText(),
  subject: formText(),
  category: formText(),
  message: formText(),
});
const CommentBody = z.object({ body: formText(), status: formText() });

const idOf = (req: Request) => String(req.params.id ?? '');
const statusOptions = [
  { value: '', label: 'Any status' },
  ...TICKET_STATUSES.map((s) => ({ value: s, label: TICKET_STATUS_LABELS[s] })),
];
const statusChoices = TICKET_STATUSES.map((s) => ({ value: s, label: TICKET_STATUS_LABELS[s] }));
const categoryOptions = [
  { value: '', label: 'Choose…' },
  ...TICKET_CATEGORIES.map((c) => ({ value: c, label: TICKET_CATEGORY_LABELS[c] })),
];

type Problems = { errors?: Record<string, string>; values?: Record<string, string>; status?: number };

export function ticketRoutes(ctx: AppContext): Router {
  const router = Router();
  const links = { baseUrl: ctx.config.baseUrl, secret: ctx.config.sessionSecret };

  const renderTicket = async (req: Request, res: Response, staff: boolean, opts: Problems = {}) => {
    const page = await getTicket(ctx.db, req.actor!, idOf(req));
    res.renderPage(
      'tickets/show',
      {
        title: `#${page.ticket.number} ${page.ticket.subject}`,
        ...page,
        staff,
        statusChoices,
        errors: opts.errors ?? {},
        values: opts.values ?? {},
      },
      { fragment: 'tickets/_thread', status: opts.status },
    );
  };

  /** After a comment: htmx gets the new thread in place, a plain form goes back to the page. */
  const commented = async (req: Request, res: Response, staff: boolean, note: string) => {
    if (wantsFragment(req)) return renderTicket(req, res, staff);
    res.flash('success', note);
    res.redirect(303, `${staff ? '/admin' : ''}/tickets/${idOf(req)}`);
  };

  const renderNew = async (req: Request, res: Response, assetId: string, opts: Problems = {}) => {
    const asset = assetId ? await assetForNewTicket(ctx.db, req.actor!, assetId) : null;
    res.renderPage(
      'tickets/new',
      { title: 'Open a ticket', asset, categoryOptions, errors: opts.errors ?? {}, values: opts.values ?? {} },
      { status: opts.status },
    );
  };

  // ---- the customer's side ----

  router.get('/tickets', ...allow('ticket.view'), async (req, res) => {
    const list = await listCustomerTickets(ctx.db, req.actor!, ticketFilterFrom(req.query));
    res.renderPage(
      'tickets/index',
      { title: 'Tickets', list, base: '/tickets', staff: false, statusOptions, canOpen: can(req.actor, 'ticket.open') },
      { fragment: 'tickets/_list' },
    );
  });

  router.get('/tickets/new', ...allow('ticket.open'), (req, res) =>
    renderNew(req, res, typeof req.query.asset === 'string' ? req.query.asset : ''),
  );

  router.post('/tickets', ...allow('ticket.open'), async (req, res) => {
    const form = NewTicketBody.parse(req.body ?? {});
    await orRerender(
      async () => {
        const { id, number } = await openTicket(ctx.db, req.actor!, {
          assetId: form.asset_id,
          subject: form.subject,
          category: form.category,
          message: form.message,
        });
        res.flash(
          'success',
          `Ticket #${number} is open: ${req.actor!.tenantName} answers here, and you get a mail when they do.`,
        );
        res.redirect(303, `/tickets/${id}`);
      },
      (errors, status) => renderNew(req, res, form.asset_id, { errors, values: form, status }),
    );
  });

  router.get('/tickets/:id', ...allow('ticket.view'), (req, res) => renderTicket(req, res, false));

  router.post('/tickets/:id/comments', ...allow('ticket.comment'), async (req, res) => {
    const form = CommentBody.parse(req.body ?? {});
    await orRerender(
      async () => {
        await addCustomerComment(ctx.db, req.actor!, idOf(req), form.body);
        await commented(req, res, false, 'Your comment has been added.');
      },
      (errors, status) => renderTicket(req, res, false, { errors, values: form, status }),
    );
  });

  router.post('/tickets/:id/following', ...allow('ticket.follow'), async (req, res) => {
    await setFollowing(ctx.db, req.actor!, idOf(req), true);
    res.flash('success', 'You follow this ticket: you get mail when staff reply or change its status.');
    res.redirect(303, `/tickets/${idOf(req)}`);
  });

  router.post('/tickets/:id/following/delete', ...allow('ticket.follow'), async (req, res) => {
    await setFollowing(ctx.db, req.actor!, idOf(req), false);
    res.flash('success', 'You no longer follow this ticket.');
    res.redirect(303, `/tickets/${idOf(req)}`);
  });

  // ---- the provider's side ----

  router.get('/admin/tickets', ...allow('ticket.staff_view'), async (req, res) => {
    const list = await listStaffTickets(ctx.db, req.actor!, ticketFilterFrom(req.query));
    res.renderPage(
      'tickets/index',
      { title: 'Tickets', list, base: '/admin/tickets', staff: true, statusOptions, canOpen: false },
      { fragment: 'tickets/_list' },
    );
  });

  router.get('/admin/tickets/:id', ...allow('ticket.staff_view'), (req, res) => renderTicket(req, res, true));

  router.post('/admin/tickets/:id/comments', ...allow('ticket.reply'), async (req, res) => {
    const form = CommentBody.parse(req.body ?? {});
    await orRerender(
      async () => {
        const { mails } = await staffUpdateTicket(ctx.db, req.actor!, idOf(req), form, links);
        if (mails) ctx.mailPump.kick();
        await commented(
          req,
          res,
          true,
          mails
            ? `Sent. ${mails === 1 ? 'One person gets' : `${mails} people get`} a mail about it.`
            : 'Saved. Nobody gets a mail: the opener and followers turned ticket mail off, or there are none.',
        );
      },
      (errors, status) => renderTicket(req, res, true, { errors, values: form, status }),
    );
  });

  return router;
}
