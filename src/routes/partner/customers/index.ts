import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.js';
import { allow } from '../../../web/auth.js';
import { formText, idParam } from '../../../web/forms.js';
import { formatMoney, PRODUCT_LABELS } from '../../../services/billing/index.js';
import { getPartnerCustomer, listPartnerCustomers } from '../../../services/partners/index.js';
import { msg } from '../../../services/platform/index.js';
import { requestTranslator } from '../../../web/locale.js';

/** Partner viewers: their assigned customers and each one's overview. Read only: GET routes alone. */

const Params = z.object({ id: idParam() });
const ListQuery = z.object({
  q: formText(200),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
});
/** product names, and numbers and money in the reader's language */
const viewOf = (req: Request, res: Response) => {
  const i18n = requestTranslator(req, res);
  return {
    productLabels: PRODUCT_LABELS,
    formatNumber: (n: number) => i18n.number(n),
    formatMoney: (minor: bigint | number | string, currency: string) => formatMoney(minor, currency, i18n.formatLocale),
  };
};

export function partnerCustomerRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/partner/customers',
    ...allow('partner.customers.view', async (req, res, actor) => {
      const list = await listPartnerCustomers(ctx.db, actor, ListQuery.parse(req.query));
      res.renderPage(
        'partner/customers/index',
        { title: msg('Manage customers'), list, ...viewOf(req, res) },
        { fragment: 'partner/customers/_table' },
      );
    }),
  );

  router.get(
    '/partner/customers/:id',
    ...allow('partner.customers.view', async (req, res, actor) => {
      const customer = await getPartnerCustomer(ctx.db, actor, Params.parse(req.params).id);
      res.renderPage('partner/customers/show', {
        title: msg('{name}', { name: customer.title }),
        customer,
        current: 'overview',
        ...viewOf(req, res),
      });
    }),
  );

  return router;
}
