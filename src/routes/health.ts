import { Router } from 'express';
import type { AppContext } from '../context.js';
import { isDatabaseReady } from '../services/platform/index.js';

/** Probes for load balancers: mounted before sessions so they never touch the session store. */
export function healthRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    if (ctx.draining?.()) return void res.status(503).json({ status: 'draining' });
    const ready = await isDatabaseReady(ctx.db);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'database unavailable' });
  });
  return router;
}
