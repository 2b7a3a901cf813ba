import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { formText, orRerender } from '../web/forms.js';
import { unsubscribe, unsubscribePreview } from '../services/mail/index.js';
import { msg } from '../services/platform/i18n.js';
import { requestTranslator } from '../web/locale.js';

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
    const what = requestTranslator(req, res).t(view.phrase);
    res.renderPage('unsubscribe/confirm', { title: msg('Stop {what}', { what }), view, token });
  });

  router.post('/unsubscribe/:token', async (req, res) => {
    const { token } = Params.parse(req.params);
    await orRerender(
      async () => {
        const view = await unsubscribe(ctx.db, secret, token);
        req.log.info({ event: 'unsubscribed', kind: view.kind }, 'unsubscribed by link');
        res.set('Cache-Control', 'no-store');
        // a page, not a redirect: mail programs posting here want a plain 2xx answer
        const label = requestTranslator(req, res).t(view.label);
        res.renderPage('unsubscribe/done', { title: msg('{label} stopped', { label }), view });
      },
      // the only refusal is a conflict (a reminder that must stay on), which the page explains
      (errors, status) =>
        res.renderPage('unsubscribe/refused', { title: msg('Reminders stay on'), message: errors.form }, { status }),
    );
  });

  return router;
}
