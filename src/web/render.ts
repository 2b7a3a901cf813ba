import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { NextFunction, Request, Response } from 'express';
import type { AppContext } from '../context.js';
import type { Msg } from '../services/platform/i18n.js';
import { requestTranslator } from './locale.js';
import { csrfToken } from './session.js';
import { assets } from './static.js';

type Flash = { kind: 'success' | 'error' | 'info'; text: Msg };
type RenderOptions = { fragment?: string; status?: number };

declare module 'express-serve-static-core' {
  interface Response {
    /** The whole page, or only `fragment` when htmx asks (and it is not a history restore). */
    renderPage(page: string, data?: Record<string, unknown>, opts?: RenderOptions): void;
    /** A message shown once, on the next page the user sees. */
    flash(kind: Flash['kind'], text: Msg): void;
  }
}

const viewsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../views');

/**
 * Every template reads `t(text, values)` for its texts and `i18n` for dates and numbers (the request's
 * Translator, see services/platform/i18n.ts), whatever data it was rendered or included with.
 */
export function createViews(cache: boolean): Eta {
  return new Eta({
    views: viewsDir,
    cache,
    autoEscape: true,
    autoTrim: [false, 'nl'],
    functionHeader: 'const t = it.i18n.t, i18n = it.i18n, localTime = it.localTime;',
  });
}

/** True for an htmx request that wants a fragment; history restores need the whole page. */
export function wantsFragment(req: Request): boolean {
  return req.get('HX-Request') === 'true' && req.get('HX-History-Restore-Request') !== 'true';
}

export function rendering(ctx: AppContext) {
  const eta = createViews(ctx.config.env === 'production');
  return (req: Request, res: Response, next: NextFunction) => {
    res.flash = (kind, text) => {
      req.session.flash = [...(req.session.flash ?? []), { kind, text }];
    };
    res.renderPage = (page, data = {}, opts = {}) => {
      const fragment = opts.fragment && wantsFragment(req) ? opts.fragment : null;
      let flash: Flash[] = [];
      if (!fragment && req.session?.flash) {
        flash = req.session.flash;
        delete req.session.flash;
      }
      const i18n = requestTranslator(req, res);
      const html = eta.render(fragment ?? page, {
        ...res.locals,
        i18n,
        lang: i18n.locale,
        // a moment in the reader's language and time zone: "24 Nov 2026, 14:05 GMT"
        localTime: (d: Date | string | null | undefined) =>
          i18n.dateTime(d, (res.locals.actor as { timeZone?: string } | undefined)?.timeZone ?? 'UTC'),
        ...data,
        flash,
        path: req.path,
        url: req.originalUrl,
        assets,
        csrfToken: req.session ? csrfToken(req) : '',
      });
      res.vary('HX-Request');
      res
        .status(opts.status ?? 200)
        .type('html')
        .send(html);
    };
    next();
  };
}
