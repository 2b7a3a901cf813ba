import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { ConflictError, ValidationError } from '../../errors.js';
import { allow } from '../../web/auth.js';
import {
  addPriceList,
  getCustomerPricing,
  PRICE_UNIT_LABELS,
  PRODUCT_LABELS,
  PRODUCTS,
  repriceCustomerUsage,
  setCustomerProducts,
} from '../../services/billing/index.js';
import {
  assignCustomer,
  createPartner,
  getPartner,
  listPartners,
  unassignCustomer,
} from '../../services/partners/index.js';
import { customerTabsFor } from '../../services/access/index.js';
import { formatDateTime } from '../../services/platform/index.js';
import {
  ACTIVATION_DAYS,
  createPartnerUser,
  reissuePartnerActivation,
  STATUS_LABELS,
} from '../../services/people/index.js';
import { formText, orRerender } from '../../web/forms.js';

const text = (max: number) => formText().transform((v) => v.slice(0, max));
const NameForm = z.object({ name: text(1000) });
const AssignForm = z.object({ customerId: text(100) });
const PartnerUserForm = z.object({ name: text(1000), email: text(1000), activation: text(20) });
const ProductsForm = z.object({
  products: z
    .unknown()
    .optional()
    .transform((v) => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string')),
});
const PriceForm = z.object({ product: text(20), unitPrice: text(40), validFrom: text(20), validUntil: text(20) });
const RepriceForm = z
  .object({ repriceProduct: text(20), repriceFrom: text(20), repriceTo: text(20) })
  .transform((f) => ({ product: f.repriceProduct, from: f.repriceFrom, to: f.repriceTo }));
const id = (req: Request, name = 'id') => String(req.params[name] ?? '');

const activationOptions = [
  { value: 'email', label: 'Email them an activation link (recommended)' },
  { value: 'link', label: 'Display an activation link for me to hand over' },
];
const productOptions = PRODUCTS.map((p) => ({ value: p, label: `${PRODUCT_LABELS[p]} (${PRICE_UNIT_LABELS[p]})` }));

/** Provider staff: partners (resellers), their partner viewers and customers; a customer's products and prices. */
export function adminPartnerRoutes(ctx: AppContext): Router {
  const router = Router();
  const staff = allow('partner.manage');
  const pricing = allow('customer.pricing');

  const renderList = async (
    req: Request,
    res: Response,
    extra: { values?: { name: string }; errors?: Record<string, string> } = {},
    status = 200,
  ) => {
    const partners = await listPartners(ctx.db, req.actor!);
    res.renderPage(
      'admin/partners/index',
      { title: 'Partners', partners, values: extra.values ?? { name: '' }, errors: extra.errors ?? {} },
      { status },
    );
  };

  const renderPartner = async (req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) => {
    const detail = await getPartner(ctx.db, req.actor!, id(req));
    res.renderPage(
      'admin/partners/show',
      {
        title: detail.partner.name,
        ...detail,
        statusLabels: STATUS_LABELS,
        errors: {},
        formatTime: (d: Date) => formatDateTime(d, req.actor!.timeZone),
        ...extra,
      },
      { status },
    );
  };

  router.get('/admin/partners', ...staff, (req, res) => renderList(req, res));

  router.post('/admin/partners', ...staff, async (req, res) => {
    const form = NameForm.parse(req.body ?? {});
    await orRerender(
      async () => {
        const partner = await createPartner(ctx.db, req.actor!, form);
        res.flash('success', `Partner ${partner.name} created. Assign its customers and add its users here.`);
        res.redirect(303, `/admin/partners/${partner.id}`);
      },
      (errors, status) => renderList(req, res, { values: form, errors }, status),
    );
  });

  router.get('/admin/partners/:id', ...staff, (req, res) => renderPartner(req, res));

  router.post('/admin/partners/:id/customers', ...staff, async (req, res) => {
    const form = AssignForm.parse(req.body ?? {});
    await orRerender(
      async () => {
        const customer = await assignCustomer(ctx.db, req.actor!, id(req), form.customerId);
        res.flash('success', `${customer.title} is now assigned to this partner. Its users see it, read only.`);
        res.redirect(303, `/admin/partners/${id(req)}`);
      },
      (errors, status) => renderPartner(req, res, { errors, formError: errors.form }, status),
    );
  });

  router.post('/admin/partners/:id/customers/:customerId/delete', ...staff, async (req, res) => {
    const customer = await unassignCustomer(ctx.db, req.actor!, id(req), id(req, 'customerId'));
    res.flash('success', `${customer.title} is no longer assigned to this partner.`);
    res.redirect(303, `/admin/partners/${id(req)}`);
  });

  const renderNewUser = async (
    req: Request,
    res: Response,
    values: Record<string, string>,
    errors: Record<string, string> = {},
    status = 200,
  ) => {
    const { partner } = await getPartner(ctx.db, req.actor!, id(req));
    res.renderPage(
      'admin/partners/new-user',
      {
        title: `Add a user to ${partner.name}`,
        partner,
        values,
        errors,
        activationOptions,
        activationDays: ACTIVATION_DAYS,
      },
      { status },
    );
  };

  router.get('/admin/partners/:id/users/new', ...staff, (req, res) => renderNewUser(req, res, { activation: 'email' }));

  router.post('/admin/partners/:id/users', ...staff, async (req, res) => {
    const form = PartnerUserForm.parse(req.body ?? {});
    try {
      const env = { now: ctx.clock.now(), baseUrl: ctx.config.baseUrl };
      const { user, token, expiresAt } = await createPartnerUser(ctx.db, req.actor!, id(req), form, env);
      if (!token) {
        ctx.mailPump.kick();
        res.flash('success', `Added ${user.name}. An activation email is on its way to ${user.email}.`);
        return res.redirect(303, `/admin/partners/${id(req)}`);
      }
      res.set('Cache-Control', 'no-store');
      await renderPartner(
        req,
        res,
        { user, activation: { link: `${ctx.config.baseUrl}/activate/${token}`, expiresAt, justCreated: true } },
        201,
      );
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await renderNewUser(req, res, form, err.fields, 422);
    }
  });

  // a pending partner viewer: a new link by mail, or shown to hand over (earlier links stop working)
  router.post('/admin/partners/:id/users/:userId/activation-email', ...staff, async (req, res) => {
    await orRerender(
      async () => {
        const { user } = await reissuePartnerActivation(ctx.db, req.actor!, id(req), id(req, 'userId'), 'email', {
          now: ctx.clock.now(),
          baseUrl: ctx.config.baseUrl,
        });
        ctx.mailPump.kick();
        res.flash('success', `A new activation email is on its way to ${user.email}. Earlier links no longer work.`);
        res.redirect(303, `/admin/partners/${id(req)}`);
      },
      (errors, status) => renderPartner(req, res, { formError: errors.form }, status),
    );
  });

  router.post('/admin/partners/:id/users/:userId/activation-link', ...staff, async (req, res) => {
    await orRerender(
      async () => {
        const { user, token, expiresAt } = await reissuePartnerActivation(
          ctx.db,
          req.actor!,
          id(req),
          id(req, 'userId'),
          'link',
          { now: ctx.clock.now(), baseUrl: ctx.config.baseUrl },
        );
        res.set('Cache-Control', 'no-store');
        await renderPartner(req, res, {
          user,
          activation: { link: `${ctx.config.baseUrl}/activate/${token}`, expiresAt, justCreated: false },
        });
      },
      (errors, status) => renderPartner(req, res, { formError: errors.form }, status),
    );
  });

  // ---- a customer's products and price lists ----
  const renderPricing = async (req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) => {
    const p = await getCustomerPricing(ctx.db, req.actor!, id(req));
    res.renderPage(
      'admin/customers/products/index',
      {
        title: `Products and prices · ${p.customer.title}`,
        ...p,
        tabs: customerTabsFor(req.actor!, p.customer.id),
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
  const base = (req: Request) => `/admin/customers/${id(req)}/products`;

  router.get('/admin/customers/:id/products', ...pricing, (req, res) => renderPricing(req, res));

  router.post('/admin/customers/:id/products', ...pricing, async (req, res) => {
    const products = await setCustomerProducts(
      ctx.db,
      req.actor!,
      id(req),
      ProductsForm.parse(req.body ?? {}).products,
    );
    res.flash(
      'success',
      products.length
        ? `Enabled products: ${products.map((p) => PRODUCT_LABELS[p]).join(', ')}.`
        : 'No product is enabled now: partners see no usage of this customer.',
    );
    res.redirect(303, base(req));
  });

  router.post('/admin/customers/:id/price-lists', ...pricing, async (req, res) => {
    const form = PriceForm.parse(req.body ?? {});
    await orRerender(
      async () => {
        const list = await addPriceList(ctx.db, req.actor!, id(req), form);
        res.flash(
          'success',
          `Added a ${PRODUCT_LABELS[list.product]} price of ${list.unitPriceLabel} from ${list.validFrom}. Records that arrive from now on get it; price earlier records again below.`,
        );
        res.redirect(303, base(req));
      },
      (errors, status) => renderPricing(req, res, { values: form, errors }, status),
    );
  });

  router.post('/admin/customers/:id/usage-pricing', ...pricing, async (req, res) => {
    const form = RepriceForm.parse(req.body ?? {});
    try {
      const { changed, product } = await repriceCustomerUsage(ctx.db, req.actor!, id(req), form);
      res.flash(
        'success',
        `Priced the ${PRODUCT_LABELS[product]} records from ${form.from} to ${form.to} again: ${changed} changed.`,
      );
      res.redirect(303, base(req));
    } catch (err) {
      if (!(err instanceof ValidationError) && !(err instanceof ConflictError)) throw err;
      await renderPricing(req, res, { reprice: form, errors: err instanceof ValidationError ? err.fields : {} }, 422);
    }
  });

  return router;
}
