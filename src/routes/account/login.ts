import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { TooManyRequestsError } from '../../errors.js';
import { maybeSignedIn, safeNext } from '../../web/auth.js';
import { formText, orRerender, type Refusal } from '../../web/forms.js';
import { sessionCookieName, sessionPrincipalOf } from '../../web/session.js';
import { finishSecondStep, pendingSecondStep, signInOrAskForCode } from '../../web/two-factor.js';
import { isOperator, landingPath } from '../../services/access/index.js';
import {
  checkSecondStep,
  endViewAs,
  signIn,
  SignInRefused,
  twoFactorKey,
  viewOf,
} from '../../services/people/index.js';
import { msg, type Msg } from '../../services/platform/i18n.js';
import { browserLanguage } from '../../web/locale.js';

/** Signing in with a password (and, for a login with two-factor, a code on a second step), and signing out. */

const Query = z.object({ next: formText() });
const SignInBody = z.object({ email: formText(), password: formText(), next: formText() });
const CodeBody = z.object({ code: formText(100) });

export function loginRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/login',
    ...maybeSignedIn((req, res, actor) => {
      const next = safeNext(Query.parse(req.query).next);
      if (actor) return res.redirect(303, next ?? landingPath(actor));
      res.renderPage('account/login/index', { title: msg('Sign in'), values: { next: next ?? '' }, errors: {} });
    }),
  );

  router.post('/login', async (req, res) => {
    const form = SignInBody.parse(req.body ?? {});
    await orRerender(
      async () => {
        const actor = await signIn(ctx.db, ctx.clock.now(), {
          ...form,
          address: req.ip ?? 'unknown',
          browserLocale: browserLanguage(req),
        });
        const next = safeNext(form.next) ?? landingPath(actor);
        const target = await signInOrAskForCode(ctx, req, sessionPrincipalOf(actor), next);
        if (req.session.secondStep)
          req.log.info({ event: 'sign_in_second_step', userId: actor.userId, address: req.ip }, 'password right');
        else req.log.info({ event: 'sign_in', userId: actor.userId, address: req.ip }, 'signed in');
        res.redirect(303, target);
      },
      (errors, status, err) => {
        logRefusedSignIn(req, err);
        const values = { email: form.email, next: form.next ?? '' };
        res.renderPage('account/login/index', { title: msg('Sign in'), values, errors }, { status });
      },
      // a locked account or address is told so on the form, with the time left
      { limits: true },
    );
  });

  // ---- the second step: a code from the app, or a recovery code, in the same field ----
  const renderSecondStep = (res: Response, errors: Record<string, Msg> = {}, status = 200) =>
    res.renderPage('account/login/two-factor', { title: msg('Two-factor sign-in'), errors }, { status });

  router.get('/login/two-factor', (req, res) => {
    if (!pendingSecondStep(ctx, req)) return res.redirect(303, '/login');
    renderSecondStep(res);
  });

  router.post('/login/two-factor', async (req, res) => {
    const step = pendingSecondStep(ctx, req);
    if (!step) {
      res.flash('info', msg('Your sign-in took too long. Sign in again.'));
      return res.redirect(303, '/login');
    }
    const { code } = CodeBody.parse(req.body ?? {});
    await orRerender(
      async () => {
        const key = twoFactorKey(ctx.config.sessionSecret);
        const address = req.ip ?? 'unknown';
        const { recoveryCode } = await checkSecondStep(
          ctx.db,
          key,
          { userId: step.userId, code, address },
          ctx.clock.now(),
        );
        const who = await finishSecondStep(ctx, req, step);
        if (!who) return res.redirect(303, '/login');
        req.log.info({ event: 'sign_in', userId: who.userId, address, recoveryCode }, 'signed in with two-factor');
        if (recoveryCode) res.flash('info', msg('You signed in with a recovery code; it no longer works.'));
        res.redirect(303, step.next);
      },
      (errors, status, err) => {
        const reason = err instanceof TooManyRequestsError ? 'locked' : 'code';
        req.log.info({ event: 'sign_in_failed', reason, userId: step.userId, address: req.ip }, 'second step refused');
        renderSecondStep(res, errors, status);
      },
      { limits: true },
    );
  });

  router.post(
    '/logout',
    ...maybeSignedIn(async (req, res, actor) => {
      // signing out ends a view as someone: in the customer's audit log, under the staff member's name
      const viewed = actor && !isOperator(actor) && actor.viewedBy ? actor : undefined;
      if (viewed) await endViewAs(ctx.db, viewed.viewedBy!.staff, req.sessionID, viewOf(viewed), 'signed_out');
      await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
      res.clearCookie(sessionCookieName(ctx), { path: '/' });
      res.redirect(303, '/login');
    }),
  );

  return router;
}

/** Why a sign-in was refused, for whoever watches the logs: never the password, nor the email typed. */
function logRefusedSignIn(req: Request, err: Refusal) {
  const address = req.ip;
  if (err instanceof TooManyRequestsError) {
    req.log.warn({ event: 'sign_in_failed', reason: 'locked', address }, 'sign-in refused: locked');
    return;
  }
  const refused = err instanceof SignInRefused ? err : null;
  req.log.info(
    {
      event: 'sign_in_failed',
      reason: refused?.reason ?? 'credentials',
      userId: refused?.userId ?? undefined,
      address,
    },
    'sign-in refused',
  );
  if (refused?.lockedNow)
    req.log.warn(
      { event: 'sign_in_lockout', locked: refused.lockedNow, userId: refused.userId ?? undefined, address },
      'sign-in locked after repeated failures',
    );
}
