import { Router } from 'express';
import type { AppContext } from '../context.js';
import { requireActor } from '../middleware/auth.js';
import { customerHome } from '../services/home.js';
import { can, landingPath } from '../services/policy.js';
import { todayIn } from '../services/subscription-rules.js';

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
