import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { formText, orRerender } from '../../web/forms.js';
import { signInOrAskForCode } from '../../web/two-factor.js';
import { noStore } from '../../web/user-screens.js';
import { browserLanguage } from '../../web/locale.js';
import { activateAccount, checkActivationLink, type InvalidLinkReason } from '../../services/people/index.js';
import { msg, type Msg } from '../../services/platform/i18n.js';

/**
 * The new person chooses a password through their activation link, or a login invited to another
 * account accepts it with its own password; either way they are signed in to the account the link opens.
 */

const Params = z.object({ token: formText(200) });
const Body = z.object({ password: formText(1000), passwordConfirm: formText(1000) });

export function activationRoutes(ctx: AppContext): Router {
  const router = Router();

  /** The form, or why the link does not work (it is checked again for each answer). */
  const renderActivation = async (
    req: Request,
    res: Response,
    token: string,
    form: { errors?: Record<string, Msg>; formError?: Msg } = {},
    status = 200,
  ) => {
    const link = await checkActivationLink(ctx.db, ctx.clock.now(), token, { address: req.ip ?? 'unknown' });
    if (!link.ok) return invalidLink(req, res, link.reason);
    res.renderPage(
      'account/activation/index',
      {
        title: link.accept ? msg('Accept your new account') : msg('Activate your account'),
        token,
        account: link,
        errors: {},
        ...form,
      },
      { status },
    );
  };

  router.get('/activate/:token', async (req, res) => {
    noStore(res);
    await renderActivation(req, res, Params.parse(req.params).token);
  });

  router.post('/activate/:token', async (req, res) => {
    noStore(res);
    const { token } = Params.parse(req.params);
    const form = Body.parse(req.body ?? {});
    await orRerender(
      async () => {
        const result = await activateAccount(ctx.db, ctx.clock.now(), token, {
          ...form,
          address: req.ip ?? 'unknown',
          browserLocale: browserLanguage(req),
        });
        if (!result.ok) return invalidLink(req, res, result.reason);
        const { userId } = result;
        const who =
          'operator' in result ? { userId, operator: true as const } : { userId, membershipId: result.membershipId };
        // an invited login with two-factor proves it with a code too, as at sign-in
        const target = await signInOrAskForCode(ctx, req, who, result.landing);
        req.log.info({ event: 'account_activated', userId: result.userId }, 'account activated');
        if (!req.session.secondStep)
          res.flash('success', msg('Your account is active, and you are signed in. Welcome to Portico.'));
        res.redirect(303, target);
      },
      (errors, status, err) =>
        renderActivation(req, res, token, { errors, formError: msg(err.message, err.values) }, status),
    );
  });

  return router;
}

function invalidLink(req: Request, res: Response, reason: InvalidLinkReason) {
  req.log.info({ event: 'activation_link_refused', reason }, 'activation link refused');
  res.renderPage(
    'account/activation/index',
    { title: msg('Activation link not valid'), invalid: reason },
    // DESIGN section 10: an unknown or used link is a 404 page; one past its time says so (410)
    { status: reason === 'expired' ? 410 : 404 },
  );
}
