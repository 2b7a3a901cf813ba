import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../context.js';
import {
  type Action,
  type Actor,
  type ActorFor,
  authorize,
  isOperator,
  navFor,
  type Principal,
  VIEW_AS_ALLOWED_WRITES,
  VIEW_AS_MS,
  viewAsRefuses,
} from '../services/access/index.js';
import { ForbiddenError } from '../errors.js';
import { endViewAs, loadActor, loadOperator } from '../services/people/index.js';
import { preloadedPrincipal, regenerateSession, renewSessionForViewAs } from './session.js';
import { msg } from '../services/platform/i18n.js';

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Principal;
  }
}

/**
 * Resolves the session's actor on every request, read with the session's row in one statement (or in one
 * query of its own for a session not read from its row): a disabled user, a removed or disabled
 * membership, a disabled tenant, a withdrawn operator, a revoked session (issued before its user's
 * sessions_valid_after) or a link session whose link no longer works signs out.
 */
export function actorFromSession(ctx: AppContext) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const { userId, membershipId, operator, issuedAt, createdAt, viaLink, linkId, viewAs } = req.session;
    if (!userId || (!membershipId && !operator)) return next();
    const issued = new Date(issuedAt ?? createdAt ?? 0);
    // read with the session's row, in the same statement, unless the session was not read from its row
    const known = preloadedPrincipal(req);
    // a view as someone is only ever read with its row: one changed since is not trusted, the session ends
    const actor = known
      ? known.principal
      : viewAs
        ? null
        : membershipId
          ? await loadActor(ctx.db, userId, membershipId, {
              issuedAt: issued,
              // a link session without a link id (stored before sessions carried it) has nothing to check: it ends
              ...(viaLink ? { linkId: linkId ?? null } : {}),
              now: ctx.clock.now(),
            })
          : await loadOperator(ctx.db, userId, { issuedAt: issued });
    if (!actor) {
      await regenerateSession(req);
      return next();
    }
    if (viaLink && !isOperator(actor)) {
      // the link reaches only the site map; a password staff set binds the password sign-in, not the link
      actor.viaLink = true;
      delete actor.mustChangePassword;
      delete actor.mustSetUpTwoFactor;
    }
    if (!isOperator(actor) && actor.viewAsLapsed) return endLapsedView(ctx, req, res, next, actor);
    req.actor = actor;
    res.locals.actor = actor;
    res.locals.nav = navFor(actor);
    // "view as" is read only: whatever the person may do, only ending the view and signing out get through
    // (the refusal page keeps the banner, so the view can be ended from there)
    if (!isOperator(actor) && actor.viewedBy && viewAsRefuses(req.method, req.path))
      throw new ForbiddenError(
        'You are viewing as someone else: nothing can be changed. End the view to act as yourself.',
      );
    next();
  };
}

/**
 * A view as someone that no longer counts (30 minutes passed, the person's sessions ended, the staff member
 * lost the right) ends on the first request that finds it so: in the audit log, and off the session, which
 * gets a new id. A page asked for goes to the person's staff page; anything else but signing out or
 * ending the view is refused, since it was meant for the person.
 */
async function endLapsedView(ctx: AppContext, req: Request, res: Response, next: NextFunction, staff: Actor) {
  const lapsed = staff.viewAsLapsed!;
  const now = ctx.clock.now();
  const why = lapsed.startedAt + VIEW_AS_MS <= now.getTime() ? 'expired' : 'no_longer_allowed';
  await endViewAs(ctx.db, staff, req.sessionID, lapsed, why);
  await renewSessionForViewAs(req, now, undefined);
  const own: Actor = { ...staff };
  delete own.viewAsLapsed;
  req.actor = own;
  res.locals.actor = own;
  res.locals.nav = navFor(own);
  if (req.method === 'POST' && VIEW_AS_ALLOWED_WRITES.includes(req.path)) return next();
  if (req.method !== 'GET' && req.method !== 'HEAD')
    throw new ForbiddenError('Your view as someone else had ended: nothing was changed.');
  res.flash('info', msg('Your view as someone else has ended.'));
  return redirectTo(req, res, `/admin/customers/${lapsed.customerId}/users/${lapsed.userId}`);
}

/** Only same-origin paths are followed after sign-in, so `next` cannot send a user elsewhere. */
export function safeNext(value: unknown): string | null {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\'))
    return null;
  return value;
}

/** Where a person whose password staff generated or typed must go before anything else. */
export const NEW_PASSWORD_PATH = '/password/new';
/** Where a person whose tenant requires two-factor, and who has none, must go before anything else. */
export const TWO_FACTOR_SETUP_PATH = '/settings/two-factor';

function redirectTo(req: Request, res: Response, target: string) {
  if (req.get('HX-Request') === 'true') {
    res.set('HX-Redirect', target).status(204).end();
    return;
  }
  res.redirect(303, target);
}

/**
 * Anonymous requests go to the sign-in page and come back afterwards (htmx gets HX-Redirect).
 * A person who must change their password reaches nothing but the page that does it; one who must set up
 * two-factor sign-in, nothing but its pages.
 */
export function requireActor(req: Request, res: Response, next: NextFunction) {
  if (req.actor?.mustChangePassword && req.path !== NEW_PASSWORD_PATH) return redirectTo(req, res, NEW_PASSWORD_PATH);
  const setup = req.path === TWO_FACTOR_SETUP_PATH || req.path.startsWith(`${TWO_FACTOR_SETUP_PATH}/`);
  if (req.actor?.mustSetUpTwoFactor && !setup) return redirectTo(req, res, TWO_FACTOR_SETUP_PATH);
  if (req.actor) return next();
  redirectTo(req, res, `/login?next=${encodeURIComponent(req.originalUrl)}`);
}

/** A handler behind a guard: it is handed the signed-in person's actor, typed, so none is read off `req`. */
export type ActorHandler<A extends Principal = Actor> = (req: Request, res: Response, actor: A) => unknown;

function withActor<A extends Principal>(handle: ActorHandler<A>): RequestHandler {
  return (req, res) => {
    // the guard before it has checked this; a route without a guard fails loudly instead of acting as nobody
    if (!req.actor) throw new Error(`no actor on ${req.method} ${req.path}: the route has no guard`);
    return handle(req, res, req.actor as A) as Promise<void>;
  };
}

function authorizeFor(action: Action): RequestHandler {
  return (req, _res, next) => {
    authorize(req.actor, action);
    next();
  };
}

/**
 * The one way to write a signed-in route: signed in (else to sign-in, 303 or HX-Redirect), allowed by
 * the policy (else 403), then any middleware (a body parser), then the handler with the typed actor:
 * `router.get('/groups', ...allow('group.view', async (req, res, actor) => { … }))`
 */
export function allow(action: Action): RequestHandler[];
export function allow<A extends Action>(
  action: A,
  ...chain: [...RequestHandler[], ActorHandler<ActorFor<A>>]
): RequestHandler[];
export function allow(action: Action, ...chain: (RequestHandler | ActorHandler<never>)[]): RequestHandler[] {
  const guard = [requireActor, authorizeFor(action)];
  if (chain.length === 0) return guard;
  // the policy gives operator actions to the operator only, and every other action to people in a tenant
  const handle = chain[chain.length - 1] as ActorHandler<never>;
  return [...guard, ...(chain.slice(0, -1) as RequestHandler[]), withActor(handle)];
}

/**
 * A route for anyone signed in, whatever their role (their home page, a forced password change):
 * a person in a tenant or the deployment operator.
 */
export function signedIn(handle: ActorHandler<Principal>): RequestHandler[] {
  return [requireActor, withActor(handle)];
}

/** A page open to everyone that answers a signed-in person differently (sign-in sends them on): their actor, if any. */
export function maybeSignedIn(
  handle: (req: Request, res: Response, actor: Principal | undefined) => unknown,
): RequestHandler[] {
  return [(req, res) => handle(req, res, req.actor) as Promise<void>];
}
