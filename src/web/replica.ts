import type { NextFunction, Request, Response } from 'express';
import type { AppContext } from '../context.js';

/**
 * Which database a heavy read goes to when DATABASE_REPLICA_URL names a streaming replica. The reads
 * that may lag a little (CSV exports, partner usage logs, call summaries, the asset list) go to the
 * replica, unless the person made a change of their own within the last DATABASE_REPLICA_MAX_LAG
 * seconds: the replica serves only while it is less than that behind, so either way they see what
 * they just did. Everything else reads and writes the primary.
 */

declare module 'express-session' {
  interface SessionData {
    /** when this person's last unsafe request ended (epoch ms); set only while a replica is configured */
    lastWriteAt?: number;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * With a replica, remembers in the session when a signed-in person's unsafe request ends. The time is
 * taken as the answer is sent, after the change committed, and before express-session saves the
 * session (its own `res.end` runs after this one). Without a replica it does nothing, so no session
 * is saved more often than before.
 */
export function rememberWrites(ctx: AppContext) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!ctx.replica || SAFE_METHODS.has(req.method)) return next();
    const end = res.end as (...args: unknown[]) => Response;
    res.end = ((...args: unknown[]) => {
      if (req.session?.userId) req.session.lastWriteAt = ctx.clock.now().getTime();
      return end.apply(res, args);
    }) as Response['end'];
    next();
  };
}

/** The database for one of the heavy reads above: the replica when it may serve this person now, else the primary. */
export function readDb(ctx: AppContext, req: Request): AppContext['db'] {
  const { replica } = ctx;
  if (!replica) return ctx.db;
  const lastWriteAt = req.session?.lastWriteAt;
  const wroteLately =
    lastWriteAt !== undefined && ctx.clock.now().getTime() - lastWriteAt < ctx.config.databaseReplicaMaxLag * 1000;
  return !wroteLately && replica.usable() ? replica.db : ctx.db;
}
