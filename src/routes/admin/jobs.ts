import { Router } from 'express';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { JOB_EFFECTS_SHOWN, tenantJobEffects } from '../../services/assets/index.js';
import { msg } from '../../services/platform/index.js';

/** Tenant admins: what the deployment's scheduled jobs did for their tenant, read only. */
export function adminJobRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/admin/jobs',
    ...allow('jobs.view', async (_req, res, actor) => {
      const effects = await tenantJobEffects(ctx.db, actor);
      res.renderPage('admin/jobs/index', {
        title: msg('Jobs'),
        effects: { ...effects, limit: JOB_EFFECTS_SHOWN },
        every: Object.fromEntries((ctx.jobs?.jobs ?? []).map((j) => [j.name, j.every])),
      });
    }),
  );

  return router;
}
