import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { formText } from '../../web/forms.js';
import type { AppContext } from '../../context.js';
import { ValidationError } from '../../errors.js';
import {
  checkResetLink,
  MIN_PASSWORD_LENGTH,
  requestPasswordReset,
  resetPassword,
} from '../../services/people/index.js';

const ForgotForm = z.object({ email: formText() });
const ResetForm = z.object({ password: formText(), passwordConfirm: formText() });
const TokenParams = z.object({ token: z.string().max(200) });

const RULES = `At least ${MIN_PASSWORD_LENGTH} characters; not a common password and not made from your email address.`;

/** Forgotten passwords: ask for a mailed link, then choose a new password with it. Logs never hold the token. */
export function passwordRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/password/forgot', (_req, res) => {
    res.renderPage('account/password/forgot', { title: 'Forgot your password', values: {}, errors: {} });
  });

  router.post('/password/forgot', async (req, res) => {
    const form = ForgotForm.parse(req.body ?? {});
    try {
      const { userId, limited } = await requestPasswordReset(ctx.db, ctx.clock.now(), {
        email: form.email,
        address: req.ip ?? 'unknown',
        baseUrl: ctx.config.baseUrl,
      });
      req.log.info(
        { event: 'password_reset_requested', userId: userId ?? undefined, limited },
        'password reset requested',
      );
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return res.renderPage(
        'account/password/forgot',
        { title: 'Forgot your password', values: form, errors: err.fields },
        { status: 422 },
      );
    }
    ctx.mailPump.kick();
    res.renderPage('account/password/forgot-sent', { title: 'Check your email', email: form.email.trim() });
  });

  router.get('/password/reset/:token', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const { token } = TokenParams.parse(req.params);
    const state = await checkResetLink(ctx.db, ctx.clock.now(), token, req.ip ?? 'unknown');
    if (!state.ok) return invalidLink(req, res, state.reason);
    res.renderPage('account/password/reset', { title: 'Choose a new password', token, rules: RULES, errors: {} });
  });

  router.post('/password/reset/:token', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const { token } = TokenParams.parse(req.params);
    const form = ResetForm.parse(req.body ?? {});
    try {
      const result = await resetPassword(ctx.db, ctx.clock.now(), token, { ...form, address: req.ip ?? 'unknown' });
      if (!result.ok) return invalidLink(req, res, result.reason);
      req.log.info(
        { event: 'password_reset', userId: result.userId, sessionsEnded: result.sessionsEnded },
        'password reset with a mailed link',
      );
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return res.renderPage(
        'account/password/reset',
        { title: 'Choose a new password', token, rules: RULES, errors: err.fields },
        { status: 422 },
      );
    }
    // the reset ended every session of the user, this browser's included: start an anonymous one
    await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
    res.flash('success', 'Your password has been changed. Sign in with it.');
    res.redirect(303, '/login');
  });

  return router;
}

function invalidLink(req: Request, res: Response, reason: 'unknown' | 'expired' | 'used') {
  req.log.info({ event: 'password_reset_link_refused', reason }, 'password reset link refused');
  res.renderPage(
    'account/password/invalid-link',
    { title: 'Link no longer valid', reason },
    { status: reason === 'unknown' ? 404 : 410 },
  );
}
