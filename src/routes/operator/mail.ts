import { Router } from 'express';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { outgoingMailPages } from '../admin/mail.js';

/** The deployment operator: every tenant's outgoing mail, on the same pages as a tenant admin's own. */
export function operatorMailRoutes(ctx: AppContext): Router {
  const router = Router();
  const pages = outgoingMailPages(ctx, '/operator/mail');
  router.get('/operator/mail', ...allow('operator.mail', pages.list));
  router.get('/operator/mail/:id', ...allow('operator.mail', pages.show));
  return router;
}
