import connectPgSimple from 'connect-pg-simple';
import { csrfSync } from 'csrf-sync';
import type { NextFunction, Request, Response } from 'express';
import session from 'express-session';
import type { AppContext } from '../context.js';
import { pgPoolAdapter } from '../db/index.js';
import { isOperator, type Principal } from '../services/access/index.js';

declare module 'express-session' {
  interface SessionData {
    userId: string;
    /** the membership the session acts in; none for a deployment operator */
    membershipId?: string;
    /** the session acts as the deployment operator (who has no membership) */
    operator?: boolean;
    createdAt: number;
    lastSeenAt: number;
    userAgent: string | null;
    /** opened with a login link: the session reaches only the site map */
    viaLink?: boolean;
    flash: { kind: 'success' | 'error' | 'info'; text: string }[];
  }
}

export const SESSION_IDLE_MS = 60 * 60 * 1000; // an hour without a request
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000; // a working day, whatever the activity
const TOUCH_EVERY_MS = 60 * 1000;

export function sessionCookieName(ctx: AppContext): string {
  return ctx.config.secureCookies ? '__Host-portico' : 'portico.sid';
}

/**
 * Sessions in PostgreSQL, shared by every instance. The store's pruning timer is off (a scheduled
 * job prunes), and touch is ours: at most once a minute, instead of an UPDATE on every request.
 */
export function sessions(ctx: AppContext) {
  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    pool: pgPoolAdapter(ctx.db) as never,
    tableName: 'session',
    createTableIfMissing: false,
    pruneSessionInterval: false,
    disableTouch: true,
    errorLog: (...args: unknown[]) => ctx.logger.error({ args }, 'session store error'),
  });
  const middleware = session({
    name: sessionCookieName(ctx),
    secret: ctx.config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'destroy',
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.config.secureCookies,
      path: '/',
      maxAge: SESSION_ABSOLUTE_MS,
    },
  });
  // express-session calls next a second time when the store fails while the response is being
  // written; the router would then destroy the socket mid-response. The chain runs once: log the rest.
  const once = (req: Request, res: Response, next: NextFunction) => {
    let called = false;
    middleware(req, res, (err?: unknown) => {
      if (!called) {
        called = true;
        return next(err);
      }
      if (err) req.log?.warn({ err }, 'session store failed after the response');
    });
  };
  return [once, expireIdleSessions(ctx)];
}

function expireIdleSessions(ctx: AppContext) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const s = req.session;
    if (!s.userId) return next();
    const now = ctx.clock.now().getTime();
    const createdAt = s.createdAt ?? now;
    const lastSeenAt = s.lastSeenAt ?? now;
    if (now - lastSeenAt > SESSION_IDLE_MS || now - createdAt > SESSION_ABSOLUTE_MS) {
      return s.regenerate((err) => next(err));
    }
    if (now - lastSeenAt > TOUCH_EVERY_MS) s.lastSeenAt = now;
    next();
  };
}

const { csrfSynchronisedProtection, generateToken } = csrfSync({
  // htmx sends the header (from hx-headers on <body>); plain forms send the field
  getTokenFromRequest: (req) => {
    const header = req.headers['x-csrf-token'];
    if (typeof header === 'string') return header;
    const body = req.body as Record<string, unknown> | undefined;
    return typeof body?._csrf === 'string' ? body._csrf : undefined;
  },
  errorConfig: {
    statusCode: 403,
    message: 'The form was out of date. Reload the page and try again.',
    code: 'EBADCSRFTOKEN',
  },
  // one-click unsubscribe is authorized by its signed link alone, and mail programs post it without a session
  skipCsrfProtection: (req) => req.method === 'POST' && /^\/unsubscribe\/[^/]+$/.test(req.path),
});

export { generateToken as csrfToken };

export function csrfProtection() {
  return csrfSynchronisedProtection;
}

/** A new session id with nothing of the old session kept: at sign-in, sign-out and every change of privilege. */
export function regenerateSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}

/** Whom a session acts as: a membership of the person, or the deployment operator. */
export type SessionPrincipal = { userId: string; membershipId: string } | { userId: string; operator: true };

/** What a session keeps of whom it acts as. */
export function sessionPrincipalOf(who: Principal): SessionPrincipal {
  return isOperator(who)
    ? { userId: who.userId, operator: true }
    : { userId: who.userId, membershipId: who.membershipId };
}

/** Exactly the fields a session keeps of whom it acts as, and no others. */
function principalFields(who: SessionPrincipal): SessionPrincipal {
  return 'operator' in who
    ? { userId: who.userId, operator: true }
    : { userId: who.userId, membershipId: who.membershipId };
}

/** Signs a person in on a fresh session id, with the fields every sign-in sets; a login link's session says so. */
export async function startSession(
  req: Request,
  now: Date,
  who: SessionPrincipal & { viaLink?: boolean },
): Promise<void> {
  await regenerateSession(req);
  const at = now.getTime();
  Object.assign(req.session, {
    ...principalFields(who),
    ...(who.viaLink ? { viaLink: true } : {}),
    createdAt: at,
    lastSeenAt: at,
    userAgent: req.get('user-agent')?.slice(0, 300) ?? null,
  });
}

/**
 * A new session id for the same sign-in, or for another of the person's roles (`who`): after a password
 * change, so a stolen copy of the old cookie stops working too, and at every change of privilege.
 */
export async function renewSessionId(req: Request, now: Date, who?: SessionPrincipal): Promise<void> {
  const { userId, membershipId, operator, createdAt, userAgent } = req.session;
  await regenerateSession(req);
  Object.assign(req.session, {
    ...principalFields(
      who ?? (operator ? { userId: userId!, operator } : { userId: userId!, membershipId: membershipId! }),
    ),
    createdAt: createdAt ?? now.getTime(),
    lastSeenAt: now.getTime(),
    userAgent,
  });
}
