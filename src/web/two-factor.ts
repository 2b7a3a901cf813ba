import type { Request } from 'express';
import type { AppContext } from '../context.js';
import type { Principal } from '../services/access/index.js';
import { hasTwoFactor, loadActor, loadOperator, SECOND_STEP_MS } from '../services/people/index.js';
import {
  regenerateSession,
  type SecondStep,
  type SessionPrincipal,
  sessionPrincipalOf,
  startSession,
} from './session.js';

/** Where sign-in's second step asks for the code from the app. */
export const SECOND_STEP_PATH = '/login/two-factor';

/**
 * After a right password (sign-in, accepting an invitation): a login with two-factor gets a fresh session
 * that signs nobody in and waits a few minutes for the code; anyone else is signed in. Returns where to go.
 */
export async function signInOrAskForCode(
  ctx: AppContext,
  req: Request,
  who: SessionPrincipal,
  next: string,
): Promise<string> {
  const now = ctx.clock.now();
  if (!(await hasTwoFactor(ctx.db, who.userId))) {
    await startSession(req, now, who);
    return next;
  }
  await regenerateSession(req);
  const at = now.getTime();
  req.session.secondStep = { ...who, issuedAt: at, expiresAt: at + SECOND_STEP_MS, next };
  return SECOND_STEP_PATH;
}

/** The sign-in waiting for its second step in this session, if it has not run out. */
export function pendingSecondStep(ctx: AppContext, req: Request): SecondStep | null {
  const step = req.session.secondStep;
  if (!step || typeof step.expiresAt !== 'number' || step.expiresAt <= ctx.clock.now().getTime()) return null;
  return step;
}

/**
 * The second step passed: whom it signs in, read afresh with the rules of every session (a login disabled,
 * a membership removed or the person's sessions ended since the password count: null), on a new session.
 */
export async function finishSecondStep(ctx: AppContext, req: Request, step: SecondStep): Promise<Principal | null> {
  const issuedAt = new Date(step.issuedAt);
  const who =
    'operator' in step
      ? await loadOperator(ctx.db, step.userId, { issuedAt })
      : await loadActor(ctx.db, step.userId, step.membershipId, { issuedAt, now: ctx.clock.now() });
  if (!who) {
    await regenerateSession(req);
    return null;
  }
  await startSession(req, ctx.clock.now(), sessionPrincipalOf(who));
  return who;
}
