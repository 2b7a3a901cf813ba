import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { formText, idParam, orRerender } from '../../web/forms.js';
import { listStaffTickets, staffUpdateTicket, ticketFilterFrom } from '../../services/tickets/index.js';
import { commented, renderTicket, renderTicketList } from '../tickets.js';
import { msg, type Msg } from '../../services/platform/index.js';

/** Staff: every customer's tickets, the customer's pages seen from the provider's side, with replies and status. */

const Params = z.object({ id: idParam() });
const ReplyBody = z.object({ body: formText(), status: formText() });

/** What staff read after replying: who gets a mail about it, if anyone. */
const repliedNote = (mails: number): Msg =>
  mails
    ? msg('{count, plural, one {Sent. One person gets a mail about it.} other {Sent. # people get a mail about it.}}', {
        count: mails,
      })
    : msg('Saved. Nobody gets a mail: the opener and followers turned ticket mail off, or there are none.');

export function adminTicketRoutes(ctx: AppContext): Router {
  const router = Router();
  const links = { baseUrl: ctx.config.baseUrl, secret: ctx.config.sessionSecret };

  router.get(
    '/admin/tickets',
    ...allow('ticket.staff_view', async (req, res, actor) => {
      const list = await listStaffTickets(ctx.db, actor, ticketFilterFrom(req.query));
      renderTicketList(res, list, { base: '/admin/tickets', staff: true, canOpen: false });
    }),
  );

  router.get(
    '/admin/tickets/:id',
    ...allow('ticket.staff_view', (req, res, actor) =>
      renderTicket(ctx.db, res, actor, Params.parse(req.params).id, true),
    ),
  );

  router.post(
    '/admin/tickets/:id/comments',
    ...allow('ticket.reply', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = ReplyBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { mails } = await staffUpdateTicket(ctx.db, actor, id, form, links);
          // the note is only flashed, which takes a Msg; commented() (routes/tickets.ts) still types it as a string
          const note = repliedNote(mails) as string;
          await commented(ctx.db, req, res, actor, { id, staff: true }, note);
        },
        (errors, status) => renderTicket(ctx.db, res, actor, id, true, { errors, values: form, status }),
      );
    }),
  );

  return router;
}
