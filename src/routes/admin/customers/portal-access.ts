import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.js';
import { allow } from '../../../web/auth.js';
import { idParam } from '../../../web/forms.js';
import { customerTabsFor } from '../../../services/access/index.js';
import {
  getPortalAccess,
  LIVE_VIEW_LABELS,
  LIVE_VIEW_PERMISSIONS,
  setPortalAccess,
} from '../../../services/sites/index.js';
import { msg } from '../../../services/platform/i18n.js';

/** Provider staff: whether a customer's site viewers may use the site map, and which of its sections. */

const Params = z.object({ id: idParam() });
// the service reads the ticked boxes it knows by name ('on'); any other field is ignored there
const Body = z.record(z.string(), z.unknown());

const permissions = LIVE_VIEW_PERMISSIONS.map((key) => ({ key, ...LIVE_VIEW_LABELS[key] }));

export function portalAccessRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/admin/customers/:id/portal-access',
    ...allow('portal_access.manage', async (req, res, actor) => {
      const { customer, access } = await getPortalAccess(ctx.db, actor, Params.parse(req.params).id);
      res.renderPage('admin/customers/portal-access/index', {
        title: msg('Portal access · {customer}', { customer: customer.title }),
        customer,
        access,
        permissions,
        tabs: customerTabsFor(actor, customer.id),
      });
    }),
  );

  router.post(
    '/admin/customers/:id/portal-access',
    ...allow('portal_access.manage', async (req, res, actor) => {
      const form = Body.parse(req.body ?? {});
      const { customer, access } = await setPortalAccess(ctx.db, actor, Params.parse(req.params).id, form);
      res.flash(
        'success',
        access.enabled
          ? msg('Portal access for {customer} saved: its site viewers can use the site map.', {
              customer: customer.title,
            })
          : msg('Portal access for {customer} saved: the site map is off for its people.', {
              customer: customer.title,
            }),
      );
      res.redirect(303, `/admin/customers/${customer.id}/portal-access`);
    }),
  );

  return router;
}
