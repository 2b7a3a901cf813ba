import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { landingPath } from '../../services/access/index.js';
import { listMembershipsOf, switchMembership } from '../../services/people/index.js';
import { formText } from '../../web/forms.js';

const SwitchBody = z.object({ membership_id: formText() });

/** A person with several roles switches the one this session acts in. */
export function membershipRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/session/membership', ...allow('session.switch'), async (req, res) => {
    const memberships = await listMembershipsOf(ctx.db, req.actor!);
    res.renderPage('account/membership/index', { title: 'Switch role', memberships });
  });

  router.post('/session/membership', ...allow('session.switch'), async (req, res) => {
    const { membership_id } = SwitchBody.parse(req.body);
    const next = await switchMembership(ctx.db, req.actor!, membership_id);
    // a change of privilege gets a new session id, like a sign-in
    const { createdAt, userAgent } = req.session;
    await regenerate(req);
    const now = ctx.clock.now().getTime();
    Object.assign(req.session, {
      userId: next.userId,
      membershipId: next.membershipId,
      createdAt: createdAt ?? now,
      lastSeenAt: now,
      userAgent,
    });
    req.log.info(
      { event: 'membership_switched', userId: next.userId, membershipId: next.membershipId },
      'switched role',
    );
    res.flash('success', `You now act as ${next.placeName}.`);
    res.redirect(303, landingPath(next));
  });

  return router;
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}
