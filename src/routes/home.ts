import { Router } from 'express';
import { requireActor } from '../middleware/auth.js';
import { can, landingPath } from '../services/policy.js';

export function homeRoutes(): Router {
  const router = Router();
  router.get('/', requireActor, (req, res) => {
    const actor = req.actor!;
    if (!can(actor, 'home.view')) return res.redirect(303, landingPath(actor));
    res.renderPage('home/index', { title: actor.placeName });
  });
  return router;
}
