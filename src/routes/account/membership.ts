import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { formText } from '../../web/forms.js';
import { renewSessionId } from '../../web/session.js';
import { landingPath } from '../../services/access/index.js';
import { listMembershipsOf, switchMembership } from '../../services/people/index.js';
import { msg } from '../../services/platform/i18n.js';

/** A person with several roles switches the one this session acts in. */

const SwitchBody = z.object({ membership_id: formText() });

export function membershipRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/session/membership',
    ...allow('session.switch', async (_req, res, actor) => {
      const memberships = await listMembershipsOf(ctx.db, actor);
      res.renderPage('account/membership/index', { title: msg('Switch role'), memberships });
    }),
  );

  router.post(
    '/session/membership',
    ...allow('session.switch', async (req, res, actor) => {
      const { membership_id } = SwitchBody.parse(req.body ?? {});
      const next = await switchMembership(ctx.db, actor, membership_id);
      // a change of privilege gets a new session id, like a sign-in
      await renewSessionId(req, ctx.clock.now(), next);
      const event = { event: 'membership_switched', userId: next.userId, membershipId: next.membershipId };
      req.log.info(event, 'switched role');
      res.flash('success', msg('You now act as {place}.', { place: next.placeName }));
      res.redirect(303, landingPath(next));
    }),
  );

  return router;
}
