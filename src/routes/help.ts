import { Router } from 'express';
import type { AppContext } from '../context.js';
import { allow } from '../web/auth.js';
import { helpLinksFor } from '../services/tenants/index.js';
import { msg } from '../services/platform/i18n.js';

/** The Help page everyone signed in reaches, with the links their provider set. */
export function helpRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/help',
    ...allow('help.view', async (_req, res, actor) => {
      res.renderPage('help/index', { title: msg('Help'), links: await helpLinksFor(ctx.db, actor) });
    }),
  );

  return router;
}
