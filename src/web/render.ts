import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { NextFunction, Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { csrfToken } from './session.js';
import { assets } from './static.js';

type Flash = { kind: 'success' | 'error' | 'info'; text: string };
type RenderOptions = { fragment?: string; status?: number };

declare module 'express-serve-static-core' {
  interface Response {
    /** The whole page, or only `fragment` when htmx asks (and it is not a history restore). */
    renderPage(page: string, data?: Record<string, unknown>, opts?: RenderOptions): void;
    /** A message shown once, on the next page the user sees. */
    flash(kind: Flash['kind'], text: string): void;
  }
}

const viewsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../views');

export function createViews(cache: boolean): Eta {
  return new Eta({ views: viewsDir, cache, autoEscape: true, autoTrim: [false, 'nl'] });
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
      const html = eta.render(fragment ?? page, {
        ...res.locals,
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
