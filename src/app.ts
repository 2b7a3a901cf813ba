import compression from 'compression';
import express from 'express';
import type { AppContext } from './context.js';
import { createJobRunner } from './jobs/scheduler.js';
import { errorHandler, notFoundHandler } from './web/errors.js';
import { requestLogging } from './web/logging.js';
import { rendering } from './web/render.js';
import { securityHeaders } from './web/security.js';
import { csrfProtection, sessions } from './web/session.js';
import { storableInput } from './web/forms.js';
import { rememberWrites } from './web/replica.js';
import { staticFiles } from './web/static.js';
import { apiRoutes } from './web/api.js';
import { healthRoutes } from './routes/health.js';
import { API_ROUTES, mountRoutes } from './routes/index.js';

/** Builds the Express app from its context; does no I/O of its own, so tests build it the same way. */
export function createApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.trustProxy);
  app.set('query parser', 'simple');

  app.use(requestLogging(ctx));
  app.use(securityHeaders(ctx.config));
  // HTML at a low level: compression costs CPU on every response and pages are small
  app.use(compression({ level: 4, threshold: 1024 }));
  app.use(staticFiles());
  app.use(healthRoutes(ctx));
  // the integration API: its own JSON parser and key authentication, no sessions or CSRF
  app.use('/api/v1', apiRoutes(ctx, API_ROUTES));

  app.use(express.urlencoded({ extended: false, limit: '100kb', parameterLimit: 200 }));
  app.use(express.json({ limit: '100kb' }));
  app.use(sessions(ctx));
  app.use(rememberWrites(ctx));
  app.use(rendering(ctx));
  app.use(csrfProtection());
  // last before the routes: what PostgreSQL cannot store never reaches a handler as it came
  app.use(storableInput());

  // the composition root hands the job list to the routes, which may not import jobs themselves
  const links = { baseUrl: ctx.config.baseUrl, secret: ctx.config.sessionSecret };
  const jobCtx = {
    db: ctx.db,
    clock: ctx.clock,
    mail: ctx.mail,
    links,
    mailRetentionDays: ctx.config.mailRetentionDays,
  };
  const jobs = ctx.jobs ?? createJobRunner(jobCtx, ctx.config.jobSchedules);
  mountRoutes(app, { ...ctx, jobs });

  app.use(notFoundHandler);
  app.use(errorHandler(ctx));
  return app;
}
