import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../context.js';
import { type Action, type Actor, authorize, navFor } from '../services/access/index.js';
import { loadActor } from '../services/people/index.js';

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}

/** Resolves the session's actor on every request; a disabled user or a removed membership signs out. */
export function actorFromSession(ctx: AppContext) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const { userId, membershipId } = req.session;
    if (!userId || !membershipId) return next();
    const actor = await loadActor(ctx.db, userId, membershipId);
    if (!actor) {
      await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
      return next();
    }
    if (req.session.viaLink) actor.viaLink = true;
    req.actor = actor;
    res.locals.actor = actor;
    res.locals.nav = navFor(actor);
    next();
  };
}

/** Only same-origin paths are followed after sign-in, so `next` cannot send a user elsewhere. */
export function safeNext(value: unknown): string | null {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return null;
  return value;
}

/** Where a person whose password staff generated or typed must go before anything else. */
export const NEW_PASSWORD_PATH = '/password/new';

function redirectTo(req: Request, res: Response, target: string) {
  if (req.get('HX-Request') === 'true') {
    res.set('HX-Redirect', target).status(204).end();
    return;
  }
  res.redirect(303, target);
}

/**
 * Anonymous requests go to the sign-in page and come back afterwards (htmx gets HX-Redirect).
 * A person who must change their password reaches nothing but the page that does it.
 */
export function requireActor(req: Request, res: Response, next: NextFunction) {
  if (req.actor?.mustChangePassword && req.path !== NEW_PASSWORD_PATH) return redirectTo(req, res, NEW_PASSWORD_PATH);
  if (req.actor) return next();
  redirectTo(req, res, `/login?next=${encodeURIComponent(req.originalUrl)}`);
}

/**
 * Route guard: signed in (else to sign-in) and allowed by the policy (else 403).
 * `router.get('/admin/customers', allow('customer.list'), handler)`
 */
export function allow(action: Action): [RequestHandler, RequestHandler] {
  return [
    requireActor,
    (req: Request, _res: Response, next: NextFunction) => {
      authorize(req.actor, action);
      next();
    },
  ];
}
