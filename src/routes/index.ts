import type { Express } from 'express';
import type { AppContext } from '../context.js';
import { actorFromSession } from '../middleware/auth.js';
import { authRoutes } from './auth.js';
import { homeRoutes } from './home.js';

/** Every router of the app, in one list so the authorization matrix test sees them all. */
export function mountRoutes(app: Express, ctx: AppContext): void {
  app.use(actorFromSession(ctx));
  app.use(authRoutes(ctx));
  app.use(homeRoutes());
}
