import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../../context.js';
import { allow } from '../../../../web/auth.js';
import { idParam, orRerender } from '../../../../web/forms.js';
import { userViewHelpers } from '../../../../web/user-screens.js';
import type { Actor } from '../../../../services/access/index.js';
import {
  customerUserTwoFactor,
  getCustomerUser,
  resetCustomerUserTwoFactor,
} from '../../../../services/people/index.js';
import { msg, type Msg } from '../../../../services/platform/i18n.js';

/**
 * Staff: a customer user's two-factor sign-in, and resetting it for a person who lost their phone and
 * their recovery codes (audited, mailed to the person). Its own page, linked from the user's page.
 */

const Params = z.object({ id: idParam(), userId: idParam() });

export function adminUserTwoFactorRoutes(ctx: AppContext): Router {
  const router = Router();
  const base = (customerId: string) => `/admin/customers/${customerId}/users`;

  const renderPage = async (
    res: Response,
    actor: Actor,
    id: string,
    userId: string,
    formError: Msg = '',
    status = 200,
  ) => {
    const user = await getCustomerUser(ctx.db, actor, userId, id);
    const { enabled } = await customerUserTwoFactor(ctx.db, actor, user);
    res.renderPage(
      'admin/customers/users/two-factor/index',
      {
        ...userViewHelpers(actor),
        title: msg('Two-factor sign-in of {name}', { name: user.name }),
        user,
        enabled,
        formError,
        base: base(user.customerId),
      },
      { status },
    );
  };

  router.get(
    '/admin/customers/:id/users/:userId/two-factor',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      await renderPage(res, actor, id, userId);
    }),
  );

  router.post(
    '/admin/customers/:id/users/:userId/two-factor/reset',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      await orRerender(
        async () => {
          const env = { customerId: id, now: ctx.clock.now(), baseUrl: ctx.config.baseUrl };
          const user = await resetCustomerUserTwoFactor(ctx.db, actor, userId, env);
          req.log.info(
            { event: 'two_factor_reset', userId: user.id, staffUserId: actor.userId },
            'staff reset two-factor',
          );
          res.flash(
            'success',
            msg('Two-factor sign-in of {name} is off. They have been mailed about it.', { name: user.name }),
          );
          res.redirect(303, `${base(user.customerId)}/${user.id}`);
        },
        (errors, status) => renderPage(res, actor, id, userId, errors.form ?? Object.values(errors)[0] ?? '', status),
      );
    }),
  );

  return router;
}
