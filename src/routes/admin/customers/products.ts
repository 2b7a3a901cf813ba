import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.js';
import { allow } from '../../../web/auth.js';
import { formText, idParam, orRerender } from '../../../web/forms.js';
import { type Actor, customerTabsFor } from '../../../services/access/index.js';
import {
  addPriceList,
  getCustomerPricing,
  PRICE_UNIT_LABELS,
  PRODUCT_LABELS,
  PRODUCTS,
  repriceCustomerUsage,
  setCustomerProducts,
} from '../../../services/billing/index.js';
import { msg } from '../../../services/platform/i18n.js';
import { requestTranslator } from '../../../web/locale.js';

/** Provider staff: a customer's "Products and prices" tab: its products, price lists, and pricing usage again. */

const Params = z.object({ id: idParam() });
const ProductsBody = z.object({
  products: z
    .unknown()
    .optional()
    .transform((v) => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string')),
});
const PriceBody = z.object({
  product: formText(20),
  unitPrice: formText(40),
  validFrom: formText(20),
  validUntil: formText(20),
});
const RepriceBody = z
  .object({ repriceProduct: formText(20), repriceFrom: formText(20), repriceTo: formText(20) })
  .transform((f) => ({ product: f.repriceProduct, from: f.repriceFrom, to: f.repriceTo }));

const productOptions = PRODUCTS.map((p) => ({ value: p, label: `${PRODUCT_LABELS[p]} (${PRICE_UNIT_LABELS[p]})` }));
const base = (customerId: string) => `/admin/customers/${customerId}/products`;

export function customerProductRoutes(ctx: AppContext): Router {
  const router = Router();

  const renderPricing = async (
    res: Response,
    actor: Actor,
    customerId: string,
    extra: Record<string, unknown> = {},
    status = 200,
  ) => {
    const p = await getCustomerPricing(ctx.db, actor, customerId);
    res.renderPage(
      'admin/customers/products/index',
      {
        title: msg('Products and prices · {customer}', { customer: p.customer.title }),
        ...p,
        tabs: customerTabsFor(actor, p.customer.id),
        productLabels: PRODUCT_LABELS,
        unitLabels: PRICE_UNIT_LABELS,
        productOptions,
        allProducts: PRODUCTS,
        values: {},
        errors: {},
        ...extra,
      },
      { status },
    );
  };

  router.get(
    '/admin/customers/:id/products',
    ...allow('customer.pricing', (req, res, actor) => renderPricing(res, actor, Params.parse(req.params).id)),
  );

  router.post(
    '/admin/customers/:id/products',
    ...allow('customer.pricing', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const products = await setCustomerProducts(ctx.db, actor, id, ProductsBody.parse(req.body ?? {}).products);
      const tr = requestTranslator(req, res);
      res.flash(
        'success',
        products.length
          ? msg('Enabled products: {products}.', { products: products.map((p) => tr.t(PRODUCT_LABELS[p])).join(', ') })
          : msg('No product is enabled now: partners see no usage of this customer.'),
      );
      res.redirect(303, base(id));
    }),
  );

  router.post(
    '/admin/customers/:id/price-lists',
    ...allow('customer.pricing', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = PriceBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const list = await addPriceList(ctx.db, actor, id, form);
          res.flash(
            'success',
            msg(
              'Added a {product} price of {price} from {from}. Records that arrive from now on get it; price earlier records again below.',
              {
                product: requestTranslator(req, res).t(PRODUCT_LABELS[list.product]),
                price: list.unitPriceLabel,
                from: list.validFrom,
              },
            ),
          );
          res.redirect(303, base(id));
        },
        (errors, status) => renderPricing(res, actor, id, { values: form, errors }, status),
      );
    }),
  );

  router.post(
    '/admin/customers/:id/usage-pricing',
    ...allow('customer.pricing', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = RepriceBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { changed, product } = await repriceCustomerUsage(ctx.db, actor, id, form);
          res.flash(
            'success',
            msg('Priced the {product} records from {from} to {to} again: {changed} changed.', {
              product: requestTranslator(req, res).t(PRODUCT_LABELS[product]),
              from: form.from,
              to: form.to,
              changed,
            }),
          );
          res.redirect(303, base(id));
        },
        // the section keeps what was typed; a refusal has no field of its own, and answers 422 as bad input does
        (errors) => renderPricing(res, actor, id, { reprice: form, errors }, 422),
      );
    }),
  );

  return router;
}
