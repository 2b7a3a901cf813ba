import { Router } from 'express';
import type { AppContext } from '../context.js';
import { requireActor } from '../web/auth.js';
import { customerHome } from '../services/customers/index.js';
import { can, landingPath } from '../services/access/index.js';
import { todayIn } from '../services/assets/index.js';

export function homeRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/', requireActor, async (req, res) => {
    const actor = req.actor!;
    if (!can(actor, 'home.view')) return res.redirect(303, landingPath(actor));
    const home = await customerHome(ctx.db, actor, todayIn(actor.timeZone, ctx.clock.now()));
    res.renderPage('home/index', { title: actor.placeName, home });
  });
  return router;
}
