import type { NextFunction, Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { AppError, isDatabaseUnavailable, NotFoundError, TooManyRequestsError } from '../errors.js';
import { english, msg, type MessageValues } from '../services/platform/i18n.js';
import { requestTranslator } from './locale.js';
import { createViews, wantsFragment } from './render.js';
import { csrfToken as csrfToken_ } from './session.js';
import { assets } from './static.js';

export function notFoundHandler(_req: Request, _res: Response, next: NextFunction) {
  next(new NotFoundError());
}

const TITLES: Record<number, string> = {
  400: msg('Bad request'),
  403: msg('Not allowed'),
  404: msg('Not found'),
  409: msg('Cannot do that now'),
  413: msg('Too large'),
  422: msg('Please check your input'),
  429: msg('Too many attempts'),
  500: msg('Something went wrong'),
  503: msg('Temporarily unavailable'),
};

function classify(err: unknown): { status: number; message: string; values?: MessageValues } {
  if (err instanceof AppError) return { status: err.status, message: err.message, values: err.values };
  // a request whose shape a route's schema refuses (a parameter that cannot be an id, say)
  if (err instanceof Error && err.name === 'ZodError')
    return { status: 400, message: msg('The request could not be understood.') };
  if (isDatabaseUnavailable(err))
    return { status: 503, message: msg('The service is briefly unavailable. Please try again in a moment.') };
  const e = err as { status?: number; statusCode?: number; type?: string; code?: string; message?: string };
  const status = e.status ?? e.statusCode ?? 500;
  if (e.code === 'EBADCSRFTOKEN') return { status: 403, message: e.message ?? TITLES[403]! };
  if (status === 404) return { status, message: new NotFoundError().message };
  if (status === 413) return { status, message: msg('What you sent is larger than this form accepts.') };
  if (status >= 400 && status < 500) return { status, message: msg('The request could not be understood.') };
  return { status: 500, message: msg('An unexpected error stopped this page. It has been logged.') };
}

/**
 * One place turns errors into answers: a full page, or for htmx a short message retargeted to the
 * page's alert region (never a whole page inside a table cell), or JSON for the API.
 */
export function errorHandler(ctx: AppContext) {
  const views = createViews(ctx.config.env === 'production');
  return (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const { status, message, values } = classify(err);
    if (status >= 500) req.log?.error({ err }, 'request failed');
    if (status === 503) res.set('Retry-After', '5');
    if (err instanceof TooManyRequestsError) res.set('Retry-After', String(err.retryAfterSeconds));
    const requestId = String(req.id ?? '');
    res.status(status);
    if (req.path.startsWith('/api/')) {
      res.json({ error: values ? english.t(message, values) : message });
      return;
    }
    const i18n = requestTranslator(req, res);
    const data = {
      status,
      title: TITLES[status] ?? msg('Error'),
      message: i18n.t(message, values),
      requestId: status >= 500 ? requestId : '',
      i18n,
      lang: i18n.locale,
    };
    if (wantsFragment(req)) {
      res.set({ 'HX-Retarget': '#alerts', 'HX-Reswap': 'innerHTML' });
      res.type('html').send(views.render('errors/_alert', data));
      return;
    }
    try {
      // signed-in visitors keep their navigation and sign-out form on error pages
      const csrfToken = status !== 503 && req.session ? csrfToken_(req) : '';
      res
        .type('html')
        .send(views.render('errors/error', { ...res.locals, ...data, flash: [], path: req.path, assets, csrfToken }));
    } catch (renderErr) {
      req.log?.error({ err: renderErr }, 'error page failed to render');
      res.type('text').send(`${i18n.t(data.title)}. ${data.message}`);
    }
  };
}
