import { Router, type Request, type Response } from 'express';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { AppContext } from '../../../context.js';
import { signedIn } from '../../../web/auth.js';
import { formText, orRerender } from '../../../web/forms.js';
import { noStore } from '../../../web/user-screens.js';
import { landingPath, type Principal } from '../../../services/access/index.js';
import {
  disableTwoFactor,
  enableTwoFactor,
  groupedSecret,
  newTotpSecret,
  ownTwoFactor,
  RECOVERY_CODE_COUNT,
  totpUri,
  twoFactorKey,
} from '../../../services/people/index.js';
import { msg, type Msg } from '../../../services/platform/i18n.js';

/**
 * A login's own two-factor sign-in: set up with an app (QR code drawn as SVG here, so the CSP holds, and
 * the secret as text), confirmed with one code; turned off with the password and a code. Anyone signed in
 * with a password (an operator too); the services refuse a login link's session.
 */

const EnableBody = z.object({ code: formText(100) });
const DisableBody = z.object({ password: formText(1000), code: formText(100) });

type FormState = { errors?: Record<string, Msg> };

export function twoFactorSettingsRoutes(ctx: AppContext): Router {
  const router = Router();
  const key = () => twoFactorKey(ctx.config.sessionSecret);

  /** Set-up (a secret kept in the session until a code from it confirms it) or, once on, the way to turn it off. */
  const renderPage = async (req: Request, res: Response, who: Principal, form: FormState = {}, status = 200) => {
    noStore(res);
    const state = await ownTwoFactor(ctx.db, who);
    let setup = null;
    if (!state.enabled) {
      const secret = (req.session.twoFactorSetup ??= newTotpSecret());
      const qrSvg = await QRCode.toString(totpUri(secret, who.email), {
        type: 'svg',
        margin: 2,
        errorCorrectionLevel: 'M',
      });
      setup = { secret: groupedSecret(secret), qrSvg };
    }
    res.renderPage(
      'account/settings/two-factor/index',
      { title: msg('Two-factor sign-in'), state, setup, required: !!who.mustSetUpTwoFactor, errors: form.errors ?? {} },
      { status },
    );
  };

  router.get('/settings/two-factor', ...signedIn((req, res, who) => renderPage(req, res, who)));

  router.post(
    '/settings/two-factor',
    ...signedIn(async (req, res, who) => {
      const { code } = EnableBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const secret = req.session.twoFactorSetup;
          // the page put a secret in the session; a form posted without it starts over
          if (!secret)
            return renderPage(
              req,
              res,
              who,
              { errors: { code: msg('Scan the new QR code, then enter a code.') } },
              422,
            );
          const codes = await enableTwoFactor(ctx.db, who, key(), { secret, code }, ctx.clock.now());
          delete req.session.twoFactorSetup;
          req.log.info({ event: 'two_factor_enabled', userId: who.userId }, 'two-factor sign-in turned on');
          noStore(res);
          res.renderPage('account/settings/two-factor/recovery-codes', {
            title: msg('Your recovery codes'),
            codes,
            count: RECOVERY_CODE_COUNT,
            continueTo: landingPath(who),
          });
        },
        (errors, status) => renderPage(req, res, who, { errors }, status),
        { limits: true },
      );
    }),
  );

  router.post(
    '/settings/two-factor/delete',
    ...signedIn(async (req, res, who) => {
      const form = DisableBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          await disableTwoFactor(ctx.db, who, key(), form, ctx.clock.now());
          req.log.info({ event: 'two_factor_disabled', userId: who.userId }, 'two-factor sign-in turned off');
          res.flash('success', msg('Two-factor sign-in is off. Your password alone signs you in.'));
          res.redirect(303, '/settings/two-factor');
        },
        (errors, status) => renderPage(req, res, who, { errors }, status),
        { limits: true },
      );
    }),
  );

  return router;
}
