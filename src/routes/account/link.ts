import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { formText } from '../../web/forms.js';
import { startSession } from '../../web/session.js';
import { noStore } from '../../web/user-screens.js';
import { type OpenedLink, openLoginLink } from '../../services/sites/index.js';
import { browserLanguage, requestTranslator } from '../../web/locale.js';
import { rememberBrowserLanguage } from '../../services/people/index.js';
import { msg } from '../../services/platform/i18n.js';

/** Opening a login link: a session that reaches only the site map, then at once a URL without the token. */

const Params = z.object({ token: formText(200) });

export function loginLinkRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/link/:token', async (req, res) => {
    noStore(res);
    const { token } = Params.parse(req.params);
    const result = await openLoginLink(ctx.db, ctx.clock.now(), token, { address: req.ip ?? 'unknown' });
    if (!result.ok) return refused(req, res, result);
    const { userId, membershipId, linkId } = result;
    await startSession(req, ctx.clock.now(), { userId, membershipId, linkId });
    // as at sign-in: the browser's language, for mail to someone who chose none
    await rememberBrowserLanguage(ctx.db, userId, browserLanguage(req));
    req.log.info({ event: 'login_link_used', userId: result.userId, address: req.ip }, 'signed in with a login link');
    res.redirect(303, '/sites');
  });

  return router;
}

/** An expired link says when it expired and whom to ask; any other is simply not found. */
function refused(req: Request, res: Response, result: Exclude<OpenedLink, { ok: true }>) {
  req.log.info({ event: 'login_link_refused', reason: result.reason }, 'login link refused');
  const expired =
    result.reason === 'expired'
      ? { expiredLabel: requestTranslator(req, res).dateTime(result.expiredAt, 'UTC'), ask: result.ask }
      : null;
  res.renderPage(
    'account/link/refused',
    { title: expired ? msg('This link has expired') : msg('This link does not work'), expired },
    { status: expired ? 410 : 404 },
  );
}
