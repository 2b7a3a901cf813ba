import { Router } from 'express';
import type { AppContext } from '../context.js';
import { signedIn } from '../web/auth.js';
import { chosenHomePath, customerHome, homePageOf } from '../services/customers/index.js';
import { can, isOperator, landingPath } from '../services/access/index.js';
import { todayIn } from '../services/assets/index.js';
import { msg } from '../services/platform/i18n.js';

/**
 * The customer's home page: the page their customer chose (303 there, when their role may open it), or
 * the summary; anyone else signed in goes on to their own landing page.
 */
export function homeRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/',
    ...signedIn(async (_req, res, actor) => {
      if (isOperator(actor) || !can(actor, 'home.view')) return res.redirect(303, landingPath(actor));
      const chosen = chosenHomePath(actor, await homePageOf(ctx.db, actor));
      if (chosen) return res.redirect(303, chosen);
      const home = await customerHome(ctx.db, actor, todayIn(actor.timeZone, ctx.clock.now()));
      res.renderPage('home/index', { title: msg('{text}', { text: actor.placeName }), home });
    }),
  );

  return router;
}
