import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { TooManyRequestsError, ValidationError } from '../../errors.js';
import { safeNext } from '../../web/auth.js';
import { formText } from '../../web/forms.js';
import { sessionCookieName } from '../../web/session.js';
import { landingPath } from '../../services/access/index.js';
import { signIn, SignInRefused } from '../../services/people/index.js';

const SignInForm = z.object({
  email: formText(),
  password: formText(),
  next: formText(),
});

export function loginRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/login', (req, res) => {
    if (req.actor) return res.redirect(303, safeNext(req.query.next) ?? landingPath(req.actor));
    res.renderPage('account/login/index', {
      title: 'Sign in',
      values: { next: safeNext(req.query.next) ?? '' },
      errors: {},
    });
  });

  router.post('/login', async (req, res) => {
    const form = SignInForm.parse(req.body ?? {});
    try {
      const actor = await signIn(ctx.db, ctx.clock.now(), { ...form, address: req.ip ?? 'unknown' });
      await regenerateSession(req);
      const now = ctx.clock.now().getTime();
      Object.assign(req.session, {
        userId: actor.userId,
        membershipId: actor.membershipId,
        createdAt: now,
        lastSeenAt: now,
        userAgent: req.get('user-agent')?.slice(0, 300) ?? null,
      });
      req.log.info({ event: 'sign_in', userId: actor.userId, address: req.ip }, 'signed in');
      res.redirect(303, safeNext(form.next) ?? landingPath(actor));
    } catch (err) {
      if (!(err instanceof ValidationError) && !(err instanceof TooManyRequestsError)) throw err;
      logRefusedSignIn(req, err);
      const status = err instanceof ValidationError ? 422 : 429;
      const errors = err instanceof ValidationError ? err.fields : { form: err.message };
      res.renderPage(
        'account/login/index',
        { title: 'Sign in', values: { email: form.email, next: form.next ?? '' }, errors },
        { status },
      );
    }
  });

  router.post('/logout', async (req, res) => {
    await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
    res.clearCookie(sessionCookieName(ctx), { path: '/' });
    res.redirect(303, '/login');
  });

  return router;
}

/** Why a sign-in was refused, for whoever watches the logs: never the password, nor the email typed. */
function logRefusedSignIn(req: Request, err: ValidationError | TooManyRequestsError) {
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

function regenerateSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}
