import connectPgSimple from 'connect-pg-simple';
import { csrfSync } from 'csrf-sync';
import type { NextFunction, Request, Response } from 'express';
import session from 'express-session';
import type { AppContext } from '../context.js';
import { pgPoolAdapter } from '../db/index.js';
import { insertSession, loadSessionWithActor, updateSession, type ViewAs } from '../services/people/index.js';
import { isOperator, type Principal } from '../services/access/index.js';
import { msg, type Msg } from '../services/platform/i18n.js';

declare module 'express-session' {
  interface SessionData {
    userId: string;
    /** the membership the session acts in; none for a deployment operator */
    membershipId?: string;
    /** the session acts as the deployment operator (who has no membership) */
    operator?: boolean;
    createdAt: number;
    lastSeenAt: number;
    /**
     * when this sign-in was issued (ms): at sign-in, and anew for the session that ended the person's
     * others; a session issued before its user's sessions_valid_after is refused
     */
    issuedAt: number;
    userAgent: string | null;
    /** opened with a login link: the session reaches only the site map */
    viaLink?: boolean;
    /** the login link it was opened with: the session ends when that link is refreshed, disabled or expires */
    linkId?: string;
    flash: { kind: 'success' | 'error' | 'info'; text: Msg }[];
    /** "view as": the staff member's session acts, read only, as this customer user until `endsAt` */
    viewAs?: ViewAs;
    /**
     * A sign-in waiting for its second step (the password was right, the code is to come). It signs nobody
     * in: the session names no userId, so nothing loads an actor from it (web/two-factor.ts).
     */
    secondStep?: SecondStep;
    /** the secret the two-factor setup page shows, until a code from it turns two-factor on */
    twoFactorSetup?: string;
  }
}

/** Whom a sign-in's second step will sign in, until when, and where it goes afterwards. */
export type SecondStep = SessionPrincipal & { issuedAt: number; expiresAt: number; next: string };

export const SESSION_IDLE_MS = 60 * 60 * 1000; // an hour without a request
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000; // a working day, whatever the activity
const TOUCH_EVERY_MS = 60 * 1000;

export function sessionCookieName(ctx: AppContext): string {
  return ctx.config.secureCookies ? '__Host-portico' : 'portico.sid';
}

/** Sessions whose row exists (or existed): loaded from the table, or inserted by this process. */
const stored = new WeakSet<object>();

/** Whom a loaded session acted as when its row was read, and the fields of the session that decided it. */
type Preloaded = { principal: Principal | null | undefined; key: string };
/** By the stored data (between the store's get and createSession), then by the request's session. */
const preloaded = new WeakMap<object, Preloaded>();

/** The session fields whose values decide whom it acts as: a preloaded actor holds only while they are unchanged. */
function principalKey(s: Partial<session.SessionData>): string {
  const { userId, membershipId, operator, issuedAt, createdAt, viaLink, linkId, viewAs } = s;
  return JSON.stringify([userId, membershipId, operator, issuedAt, createdAt, viaLink, linkId, viewAs]);
}

/**
 * Whom the request's session acts as, read with its row in the same statement (loadSessionWithActor): a
 * principal, null when the session no longer counts, undefined when it names nobody or was not read this
 * request (created or regenerated since, or changed), in which case the caller loads the actor itself.
 */
export function preloadedPrincipal(req: Request): { principal: Principal | null | undefined } | undefined {
  const s = req.session as (session.Session & Partial<session.SessionData>) | undefined;
  const found = s && preloaded.get(s);
  if (!found || found.key !== principalKey(s)) return undefined;
  return { principal: found.principal };
}

/**
 * connect-pg-simple's set() is an upsert: a request that loaded a session before it was ended (a slow
 * upload, a stalled download) would store it again as it finishes. This store inserts only the sessions
 * that requests create (sign-in regenerates one) and only updates those it loaded, so a deleted row
 * stays deleted.
 */
function revocableStore(ctx: AppContext) {
  const PgStore = connectPgSimple(session);
  class RevocableStore extends PgStore {
    /**
     * The row and its actor in one round trip (loadSessionWithActor) instead of connect-pg-simple's read
     * followed by the actor's: the actor middleware (web/auth.ts) takes it from preloadedPrincipal.
     */
    override get(sid: string, callback: (err: unknown, sess?: session.SessionData | null) => void) {
      loadSessionWithActor(ctx.db, sid, { expiresAfter: Math.ceil(Date.now() / 1000), now: ctx.clock.now() }).then(
        (found) => {
          if (!found) return callback(null, null);
          const data = found.sess as unknown as session.SessionData;
          preloaded.set(data, { principal: found.principal, key: principalKey(data) });
          callback(null, data);
        },
        (err: unknown) => callback(err),
      );
    }

    override createSession(req: Request, data: session.SessionData) {
      const found = preloaded.get(data);
      const loaded = super.createSession(req, data);
      stored.add(loaded);
      if (found) preloaded.set(loaded, found);
      return loaded;
    }

    override set(sid: string, sess: session.SessionData, callback?: (err?: unknown) => void) {
      const expires = sess.cookie?.expires ? new Date(sess.cookie.expires).getTime() : Date.now() + SESSION_ABSOLUTE_MS;
      const expireSeconds = Math.ceil(expires / 1000);
      const write = stored.has(sess)
        ? updateSession(ctx.db, sid, sess, expireSeconds)
        : insertSession(ctx.db, sid, sess, expireSeconds).then(() => stored.add(sess));
      write.then(
        () => callback?.(),
        (err: unknown) => callback?.(err),
      );
    }
  }
  return RevocableStore;
}

/**
 * Sessions in PostgreSQL, shared by every instance. The store's pruning timer is off (a scheduled
 * job prunes), and touch is ours: at most once a minute, instead of an UPDATE on every request.
 */
export function sessions(ctx: AppContext) {
  const Store = revocableStore(ctx);
  const store = new Store({
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
  return [once, storeBeforeAnswering, expireIdleSessions(ctx)];
}

/** What each session was last stored as by saveSession, to tell whether it changed since. */
const savedAs = new WeakMap<object, string>();

function saveSession(req: Request): Promise<void> {
  const s = req.session;
  return new Promise((resolve, reject) =>
    s.save((err) => {
      if (err) return reject(err);
      savedAs.set(s, JSON.stringify(s));
      resolve();
    }),
  );
}

/**
 * express-session stores a session while the answer's headers are already leaving, so a client that
 * follows a redirect at once can arrive before its new session exists (sign-in, a role switch) or before
 * the message the form left in it (a flash). A request whose session changed answers only once it is stored;
 * express-session then finds it saved and writes nothing more.
 */
function storeBeforeAnswering(req: Request, res: Response, next: NextFunction) {
  const idAtStart = req.sessionID;
  const atStart = JSON.stringify(req.session);
  const end = res.end;
  res.end = function (this: Response, ...args: unknown[]) {
    const s = req.session;
    const now = s && JSON.stringify(s);
    const unchanged = !s || (req.sessionID === idAtStart && now === atStart) || savedAs.get(s) === now;
    // an empty session (only its cookie) is not stored at all, as express-session would not store it either
    if (unchanged || Object.keys(s).every((k) => k === 'cookie')) return end.apply(this, args as never);
    saveSession(req).then(
      () => end.apply(this, args as never),
      (err: unknown) => {
        req.log?.error({ err }, 'session could not be stored');
        end.apply(this, args as never);
      },
    );
    return this;
  } as Response['end'];
  next();
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
    // a form that sends files: only its route reads the body, after this check, so a plain form carries the
    // token in its action's query string (the web/multipart.ts note says why)
    if (req.is('multipart/form-data')) return typeof req.query._csrf === 'string' ? req.query._csrf : undefined;
    const body = req.body as Record<string, unknown> | undefined;
    return typeof body?._csrf === 'string' ? body._csrf : undefined;
  },
  errorConfig: {
    statusCode: 403,
    message: msg('The form was out of date. Reload the page and try again.'),
    code: 'EBADCSRFTOKEN',
  },
  // one-click unsubscribe is authorized by its signed link alone, and mail programs post it without a session
  skipCsrfProtection: (req) => req.method === 'POST' && /^\/unsubscribe\/[^/]+$/.test(req.path),
});

export { generateToken as csrfToken };

export function csrfProtection() {
  return csrfSynchronisedProtection;
}

/**
 * A new session id with nothing of the old session kept: at sign-in, sign-out and every change of privilege.
 * What the request then puts in the session is stored before the answer leaves (storeBeforeAnswering).
 */
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

/**
 * Signs a person in on a fresh session id, with the fields every sign-in sets, and stores it before going
 * on; a login link's session carries the link's id (`linkId`) and reaches only the site map.
 */
export async function startSession(
  req: Request,
  now: Date,
  who: SessionPrincipal & { linkId?: string },
): Promise<void> {
  await regenerateSession(req);
  const at = now.getTime();
  Object.assign(req.session, {
    ...principalFields(who),
    ...(who.linkId ? { viaLink: true, linkId: who.linkId } : {}),
    createdAt: at,
    lastSeenAt: at,
    issuedAt: at,
    userAgent: req.get('user-agent')?.slice(0, 300) ?? null,
  });
  await saveSession(req);
}

/**
 * A new session id for the same sign-in, or for another of the person's roles (`who`), stored before going
 * on: at every change of privilege. It keeps when the sign-in was issued, so a role switch in flight while
 * the person's sessions are ended cannot outlive them.
 */
export function renewSessionId(req: Request, now: Date, who?: SessionPrincipal): Promise<void> {
  return renew(req, now, who, false);
}

/**
 * The session that just ended all of the person's others (a password change, "sign out everywhere else")
 * goes on, with a new id issued now: a stolen copy of its old cookie stops working with the rest.
 */
export function reissueSession(req: Request, now: Date): Promise<void> {
  return renew(req, now, undefined, true);
}

/**
 * "View as" starts or ends (`viewAs` undefined): a change of privilege, so a new session id for the same
 * sign-in, with the view or without it, stored before going on.
 */
export function renewSessionForViewAs(req: Request, now: Date, viewAs: ViewAs | undefined): Promise<void> {
  return renew(req, now, undefined, false, viewAs);
}

async function renew(
  req: Request,
  now: Date,
  who: SessionPrincipal | undefined,
  issuedNow: boolean,
  viewAs?: ViewAs,
): Promise<void> {
  const { userId, membershipId, operator, createdAt, issuedAt, userAgent, viaLink, linkId } = req.session;
  await regenerateSession(req);
  Object.assign(req.session, {
    ...principalFields(
      who ?? (operator ? { userId: userId!, operator } : { userId: userId!, membershipId: membershipId! }),
    ),
    // a login link's session stays one, whatever it does
    ...(viaLink ? { viaLink, linkId } : {}),
    createdAt: createdAt ?? now.getTime(),
    lastSeenAt: now.getTime(),
    issuedAt: issuedNow ? now.getTime() : (issuedAt ?? createdAt ?? now.getTime()),
    userAgent,
    // a view as someone lasts only until it is ended: a role switch or a re-issue never carries it over
    ...(viewAs ? { viewAs } : {}),
  });
  await saveSession(req);
}
