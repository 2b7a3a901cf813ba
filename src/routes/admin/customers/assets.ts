import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.js';
import { allow } from '../../../web/auth.js';
import { idParam } from '../../../web/forms.js';
import { readDb } from '../../../web/replica.js';
import { listAssets } from '../../../services/assets/index.js';
import { customerTabsFor } from '../../../services/access/index.js';
import { assetFilter, renderAssetList, sendAssetsCsv } from '../../assets/index.js';

/** Staff: a customer's Assets tab, the customer's asset list seen from the provider's side (no links, no requests). */

const Params = z.object({ id: idParam() });

export function adminCustomerAssetRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/admin/customers/:id/assets',
    ...allow('asset.staff_view', async (req, res, actor) => {
      const filter = assetFilter(ctx, req, actor, Params.parse(req.params).id);
      const list = await listAssets(readDb(ctx, req), actor, filter);
      const customer = list.customer!;
      renderAssetList(res, list, {
        title: `Assets · ${customer.title}`,
        base: `/admin/customers/${customer.id}/assets`,
        linkAssets: false,
        canRequest: false,
        customerTabs: customerTabsFor(actor, customer.id),
      });
    }),
  );

  router.get(
    '/admin/customers/:id/assets.csv',
    ...allow('asset.staff_view', (req, res, actor) =>
      sendAssetsCsv(ctx, req, res, actor, assetFilter(ctx, req, actor, Params.parse(req.params).id)),
    ),
  );

  return router;
}
