import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.js';
import { allow, signedIn } from '../../../web/auth.js';
import { idParam } from '../../../web/forms.js';
import { renewSessionForViewAs } from '../../../web/session.js';
import { isOperator } from '../../../services/access/index.js';
import { endViewAs, startViewAs, viewOf } from '../../../services/people/index.js';
import { msg } from '../../../services/platform/i18n.js';

/**
 * "View as": staff start a read-only view as a customer user from the user's staff page, and end it from
 * the banner on every page (or it ends by itself after 30 minutes: web/auth.ts).
 */

const Params = z.object({ id: idParam(), userId: idParam() });

export function viewAsRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post(
    '/admin/customers/:id/users/:userId/view-as',
    ...allow('customer_user.view_as', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      const now = ctx.clock.now();
      const { viewAs } = await startViewAs(ctx.db, actor, id, userId, now);
      await renewSessionForViewAs(req, now, viewAs);
      res.redirect(303, '/');
    }),
  );

  router.post(
    '/view-as/end',
    ...signedIn(async (req, res, actor) => {
      // not viewing (already ended, by the person or by time): nothing to end, back to one's own pages
      if (isOperator(actor) || !actor.viewedBy) return res.redirect(303, '/');
      const view = viewOf(actor);
      await endViewAs(ctx.db, actor.viewedBy.staff, req.sessionID, view, 'ended');
      await renewSessionForViewAs(req, ctx.clock.now(), undefined);
      res.flash('success', msg('You no longer view as {name}.', { name: actor.name }));
      res.redirect(303, `/admin/customers/${view.customerId}/users/${view.userId}`);
    }),
  );

  return router;
}
