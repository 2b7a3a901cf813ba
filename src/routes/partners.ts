import { Router } from 'express';
import type { AppContext } from '../context.js';
import { adminPartnerRoutes } from './admin-partners.js';
import { partnerViewRoutes } from './partner-view.js';

/** Partners: the staff screens that set them up, and the read-only view their users get. */
export function partnerRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use(adminPartnerRoutes(ctx));
  router.use(partnerViewRoutes(ctx));
  return router;
}
