import { randomUUID } from 'node:crypto';
import { pinoHttp } from 'pino-http';
import type { AppContext } from '../context.js';

/** Paths whose next segment is a token: activation, reset and login links, invitations, confirmations, unsubscribe. */
const TOKEN_PATHS = /\/(link|activate|password\/reset|settings\/email-verification|unsubscribe|invitations)\/[^/?#]+/g;
/** Anything else long and random enough to be a token (a link's 43 characters, in a query string, say). */
const TOKEN_LIKE = /[A-Za-z0-9_-]{32,}/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The URL as the log keeps it: no token, wherever it stands; record ids (uuids) stay for tracing. */
export function redactTokens(url: string): string {
  return url.replace(TOKEN_PATHS, '/$1/[token]').replace(TOKEN_LIKE, (m) => (UUID.test(m) ? m : '[token]'));
}

/** One log line per request, with an id that the error page shows so a report can be traced. */
export function requestLogging(ctx: AppContext) {
  return pinoHttp({
    logger: ctx.logger,
    genReqId: (req, res) => {
      const id = randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: redactTokens(req.url),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
  });
}
