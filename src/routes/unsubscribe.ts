import { Router } from 'express';
import type { AppContext } from '../context.js';
import { ConflictError } from '../errors.js';
import { unsubscribe, unsubscribePreview } from '../services/mail/index.js';

/**
 * One-click unsubscribe from a kind of notification mail, authorized by the signed link alone: no
 * session, no CSRF token (mail programs POST here for the List-Unsubscribe-Post header; the path
 * is exempt in session.ts). GET only shows what the button would do, so a link scanner that
 * opens every link in a mail changes nothing.
 */
export function unsubscribeRoutes(ctx: AppContext): Router {
  const router = Router();
  const secret = ctx.config.sessionSecret;

  router.get('/unsubscribe/:token', async (req, res) => {
    const view = await unsubscribePreview(ctx.db, secret, String(req.params.token));
    res.set('Cache-Control', 'no-store');
    res.renderPage('unsubscribe/confirm', {
      title: `Stop ${view.label.toLowerCase()}`,
      view,
      token: String(req.params.token),
    });
  });

  router.post('/unsubscribe/:token', async (req, res) => {
    try {
      const view = await unsubscribe(ctx.db, secret, String(req.params.token));
      req.log.info({ event: 'unsubscribed', kind: view.kind }, 'unsubscribed by link');
      res.set('Cache-Control', 'no-store');
      // a page, not a redirect: mail programs posting here want a plain 2xx answer
      res.renderPage('unsubscribe/done', { title: `${view.label} stopped`, view });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      res.renderPage('unsubscribe/refused', { title: 'Reminders stay on', message: err.message }, { status: 409 });
    }
  });

  return router;
}
