import { randomUUID } from 'node:crypto';
import { pinoHttp } from 'pino-http';
import type { AppContext } from '../context.js';

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
        url: req.url
          .replace(/\/(link|activate|password\/reset)\/[^/?]+/, '/$1/[token]')
          .replace(/([?&]_csrf=)[^&]*/, '$1[token]'),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
  });
}
