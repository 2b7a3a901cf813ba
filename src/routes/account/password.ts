import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { NEW_PASSWORD_PATH, signedIn } from '../../web/auth.js';
import { formText, orRerender } from '../../web/forms.js';
import { regenerateSession, reissueSession } from '../../web/session.js';
import { isOperator, landingPath } from '../../services/access/index.js';
import {
  checkResetLink,
  MIN_PASSWORD_LENGTH,
  replaceStaffSetPassword,
  requestPasswordReset,
  resetPassword,
} from '../../services/people/index.js';
import { msg } from '../../services/platform/i18n.js';

/**
 * Forgotten passwords: ask for a mailed link, then choose a new password with it (logs never hold the
 * token); and the password staff generated or typed, which its person replaces before anything else.
 */

const ForgotBody = z.object({ email: formText() });
const PasswordBody = z.object({ password: formText(), passwordConfirm: formText() });
const TokenParams = z.object({ token: z.string().max(200) });

const RULES = msg('At least {min} characters; not a common password and not made from your email address.', {
  min: MIN_PASSWORD_LENGTH,
});

export function passwordRoutes(ctx: AppContext): Router {
  const router = Router();

  const renderForgot = (res: Response, values: Record<string, string>, errors = {}, status = 200) =>
    res.renderPage('account/password/forgot', { title: msg('Forgot your password'), values, errors }, { status });

  const renderReset = (res: Response, token: string, errors = {}, status = 200) =>
    res.renderPage(
      'account/password/reset',
      { title: msg('Choose a new password'), token, rules: RULES, errors },
      { status },
    );

  const renderNew = (res: Response, errors = {}, status = 200) =>
    res.renderPage('account/password/new', { title: msg('Set a new password'), rules: RULES, errors }, { status });

  router.get('/password/forgot', (_req, res) => renderForgot(res, {}));

  router.post('/password/forgot', async (req, res) => {
    const form = ForgotBody.parse(req.body ?? {});
    await orRerender(
      async () => {
        const { userId, limited } = await requestPasswordReset(ctx.db, ctx.clock.now(), {
          email: form.email,
          address: req.ip ?? 'unknown',
          baseUrl: ctx.config.baseUrl,
        });
        const event = { event: 'password_reset_requested', userId: userId ?? undefined, limited };
        req.log.info(event, 'password reset requested');
        res.renderPage('account/password/forgot-sent', { title: msg('Check your email'), email: form.email.trim() });
      },
      (errors, status) => renderForgot(res, form, errors, status),
    );
  });

  router.get('/password/reset/:token', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const { token } = TokenParams.parse(req.params);
    const state = await checkResetLink(ctx.db, ctx.clock.now(), token, req.ip ?? 'unknown');
    if (!state.ok) return invalidLink(req, res, state.reason);
    renderReset(res, token);
  });

  router.post('/password/reset/:token', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const { token } = TokenParams.parse(req.params);
    const form = PasswordBody.parse(req.body ?? {});
    await orRerender(
      async () => {
        const result = await resetPassword(ctx.db, ctx.clock.now(), token, { ...form, address: req.ip ?? 'unknown' });
        if (!result.ok) return invalidLink(req, res, result.reason);
        const event = { event: 'password_reset', userId: result.userId, sessionsEnded: result.sessionsEnded };
        req.log.info(event, 'password reset with a mailed link');
        // the reset ended every session of the user, this browser's included: start an anonymous one
        await regenerateSession(req);
        res.flash('success', msg('Your password has been changed. Sign in with it.'));
        res.redirect(303, '/login');
      },
      (errors, status) => renderReset(res, token, errors, status),
    );
  });

  // ---- a password staff generated or typed: the person chooses their own before anything else ----
  router.get(
    NEW_PASSWORD_PATH,
    ...signedIn((_req, res, actor) => {
      if (!actor.mustChangePassword) return res.redirect(303, landingPath(actor));
      res.set('Cache-Control', 'no-store');
      renderNew(res);
    }),
  );

  router.post(
    NEW_PASSWORD_PATH,
    ...signedIn(async (req, res, actor) => {
      // an operator chose their own password at activation: there is none given by staff to replace
      if (isOperator(actor)) return res.redirect(303, landingPath(actor));
      const form = PasswordBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          await replaceStaffSetPassword(ctx.db, actor, req.sessionID, form, ctx.clock.now());
          const event = { event: 'password_changed', userId: actor.userId, reason: 'staff_set' };
          req.log.info(event, 'password set by staff replaced');
          await reissueSession(req, ctx.clock.now());
          res.flash('success', msg('Your new password is set. Welcome to Portico.'));
          res.redirect(303, landingPath(actor));
        },
        // a password that is the person's own already (changed in another tab) needs nothing more here
        (errors, status) => (status === 409 ? res.redirect(303, landingPath(actor)) : renderNew(res, errors, status)),
      );
    }),
  );

  return router;
}

function invalidLink(req: Request, res: Response, reason: 'unknown' | 'expired' | 'used') {
  req.log.info({ event: 'password_reset_link_refused', reason }, 'password reset link refused');
  res.renderPage(
    'account/password/invalid-link',
    { title: msg('Link no longer valid'), reason },
    { status: reason === 'unknown' ? 404 : 410 },
  );
}
