import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { ValidationError } from '../../errors.js';
import { allow } from '../../web/auth.js';
import {
  CODE_MINUTES,
  confirmEmailVerification,
  confirmMobileCode,
  sendEmailVerification,
  sendMobileCode,
  verificationState,
} from '../../services/people/index.js';
import { formText } from '../../web/forms.js';

const MobileBody = z.object({ mobile: formText().transform((v) => v.slice(0, 100)) });
const CodeBody = z.object({ code: formText().transform((v) => v.slice(0, 20)) });
const TokenParams = z.object({ token: z.string().max(200) });

/** The person's own email and mobile verification, from the settings page. */
export function contactVerificationRoutes(ctx: AppContext): Router {
  const router = Router();
  const guard = allow('settings.view');

  router.post('/settings/email-verification', ...guard, async (req, res) => {
    const email = await sendEmailVerification(ctx.db, req.actor!, {
      now: ctx.clock.now(),
      baseUrl: ctx.config.baseUrl,
    });
    ctx.mailPump.kick();
    res.flash('success', `A confirmation link is on its way to ${email}.`);
    res.redirect(303, '/settings#verification');
  });

  // opening the link only asks (mail scanners open links); the button confirms
  router.get('/settings/email-verification/:token', (req, res) => {
    res.set('Cache-Control', 'no-store');
    res.renderPage('account/settings/email-verification', {
      title: 'Confirm your email address',
      token: TokenParams.parse(req.params).token,
    });
  });

  router.post('/settings/email-verification/:token', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const result = await confirmEmailVerification(ctx.db, ctx.clock.now(), TokenParams.parse(req.params).token);
    if (!result.ok)
      return res.renderPage(
        'account/settings/email-verification',
        { title: 'Link not valid', invalid: result.reason },
        { status: result.reason === 'unknown' ? 404 : 410 },
      );
    res.renderPage('account/settings/email-verification', { title: 'Email confirmed', done: result.email });
  });

  const mobilePage = async (
    req: Request,
    res: Response,
    extra: { values?: Record<string, string>; errors?: Record<string, string> } = {},
    status = 200,
  ) => {
    const state = await verificationState(ctx.db, req.actor!, ctx.clock.now());
    res.renderPage(
      'account/settings/mobile',
      {
        title: 'Your mobile number',
        state,
        codeMinutes: CODE_MINUTES,
        values: extra.values ?? { mobile: state.mobile ?? '' },
        errors: extra.errors ?? {},
      },
      { status },
    );
  };

  router.get('/settings/mobile', ...guard, (req, res) => mobilePage(req, res));

  router.post('/settings/mobile', ...guard, async (req, res) => {
    const form = MobileBody.parse(req.body ?? {});
    try {
      const mobile = await sendMobileCode(ctx.db, req.actor!, form, ctx.clock.now());
      res.flash('success', `A code is on its way to ${mobile}.`);
      res.redirect(303, '/settings/mobile');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await mobilePage(req, res, { values: form, errors: err.fields }, 422);
    }
  });

  router.post('/settings/mobile/verification', ...guard, async (req, res) => {
    const form = CodeBody.parse(req.body ?? {});
    try {
      await confirmMobileCode(ctx.db, req.actor!, form, ctx.clock.now());
      res.flash('success', 'Your mobile number is verified.');
      res.redirect(303, '/settings#verification');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await mobilePage(req, res, { errors: err.fields }, 422);
    }
  });

  return router;
}
