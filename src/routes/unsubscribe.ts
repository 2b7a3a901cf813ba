import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { formText, orRerender } from '../web/forms.js';
import { unsubscribe, unsubscribePreview } from '../services/mail/index.js';

/**
 * One-click unsubscribe from a kind of notification mail, authorized by the signed link alone: no
 * session, no CSRF token (mail programs POST here for the List-Unsubscribe-Post header; the path
 * is exempt in session.ts). GET only shows what the button would do, so a link scanner that
 * opens every link in a mail changes nothing.
 */

const Params = z.object({ token: formText() });

export function unsubscribeRoutes(ctx: AppContext): Router {
  const router = Router();
  const secret = ctx.config.sessionSecret;

  router.get('/unsubscribe/:token', async (req, res) => {
    const { token } = Params.parse(req.params);
    const view = await unsubscribePreview(ctx.db, secret, token);
    res.set('Cache-Control', 'no-store');
    res.renderPage('unsubscribe/confirm', { title: `Stop ${view.label.toLowerCase()}`, view, token });
  });

  router.post('/unsubscribe/:token', async (req, res) => {
    const { token } = Params.parse(req.params);
    await orRerender(
      async () => {
        const view = await unsubscribe(ctx.db, secret, token);
        req.log.info({ event: 'unsubscribed', kind: view.kind }, 'unsubscribed by link');
        res.set('Cache-Control', 'no-store');
        // a page, not a redirect: mail programs posting here want a plain 2xx answer
        res.renderPage('unsubscribe/done', { title: `${view.label} stopped`, view });
      },
      // the only refusal is a conflict (a reminder that must stay on), which the page explains
      (errors, status) =>
        res.renderPage('unsubscribe/refused', { title: 'Reminders stay on', message: errors.form }, { status }),
    );
  });

  return router;
}
