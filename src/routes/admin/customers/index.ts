import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.js';
import { allow } from '../../../web/auth.js';
import { formText, orRerender } from '../../../web/forms.js';
import {
  createCustomer,
  type Customer,
  CUSTOMER_STATUS_LABELS,
  CUSTOMER_STATUSES,
  type CustomerForm,
  deleteCustomer,
  deletionPreview,
  emptyCustomerForm,
  getCustomer,
  HOME_PAGE_LABELS,
  HOME_PAGES,
  listAuditEntries,
  listCustomers,
  listQueryFrom,
  PAGE_SIZES,
  parentChoices,
  updateCustomer,
} from '../../../services/customers/index.js';
import { customerMapEnabled, setCustomerMap } from '../../../services/groups/index.js';
import { can, customerTabsFor } from '../../../services/access/index.js';

const text = formText();
const CustomerFormBody = z.object({
  title: text,
  account_id: text,
  contact_name: text,
  email: text,
  phone: text,
  address: text,
  parent_id: text,
  home_page: text,
  status: text,
});
const DeleteBody = z.object({ confirm_title: text });

const BASE = '/admin/customers';
const idOf = (req: Request) => String(req.params.id ?? '');
const labels = {
  homePages: HOME_PAGES.map((v) => ({ value: v, label: HOME_PAGE_LABELS[v] })),
  statuses: CUSTOMER_STATUSES.map((v) => ({ value: v, label: CUSTOMER_STATUS_LABELS[v] })),
  statusLabels: CUSTOMER_STATUS_LABELS,
  homePageLabels: HOME_PAGE_LABELS,
};

export function adminCustomerRoutes(ctx: AppContext): Router {
  const router = Router();

  const renderForm = async (
    req: Request,
    res: Response,
    opts: { customer?: Customer; values: CustomerForm; errors?: Record<string, string>; status?: number },
  ) => {
    const parents = await parentChoices(ctx.db, req.actor!, opts.customer?.id);
    const title = opts.customer ? `Edit ${opts.customer.title}` : 'New customer';
    res.renderPage(
      'admin/customers/form',
      { title, ...labels, ...opts, errors: opts.errors ?? {}, parents },
      { status: opts.status },
    );
  };

  const renderDelete = async (
    req: Request,
    res: Response,
    errors: Record<string, string> = {},
    status = 200,
    typed = '',
  ) => {
    const preview = await deletionPreview(ctx.db, req.actor!, idOf(req));
    res.renderPage(
      'admin/customers/delete',
      { title: `Delete ${preview.customer.title}`, ...preview, errors, typed },
      { status },
    );
  };

  router.get(BASE, ...allow('customer.list'), async (req, res) => {
    const list = await listCustomers(ctx.db, req.actor!, listQueryFrom(req.query));
    res.renderPage(
      'admin/customers/index',
      {
        title: 'Customers',
        list,
        pageSizes: PAGE_SIZES,
        statusLabels: CUSTOMER_STATUS_LABELS,
        canManage: can(req.actor, 'customer.manage'),
      },
      { fragment: 'admin/customers/_table' },
    );
  });

  router.get(`${BASE}/new`, ...allow('customer.manage'), async (req, res) => {
    const parent = typeof req.query.parent === 'string' ? req.query.parent : '';
    await renderForm(req, res, { values: { ...emptyCustomerForm(), parent_id: parent } });
  });

  router.post(BASE, ...allow('customer.manage'), async (req, res) => {
    const form = CustomerFormBody.parse(req.body ?? {});
    await orRerender(
      async () => {
        const customer = await createCustomer(ctx.db, req.actor!, form);
        res.flash('success', `Customer ${customer.title} created.`);
        res.redirect(303, `${BASE}/${customer.id}`);
      },
      (errors, status) => renderForm(req, res, { values: form, errors, status }),
    );
  });

  router.get(`${BASE}/:id`, ...allow('customer.view'), async (req, res) => {
    const detail = await getCustomer(ctx.db, req.actor!, idOf(req));
    const tabs = customerTabsFor(req.actor!, detail.customer.id);
    const mapEnabled = await customerMapEnabled(ctx.db, req.actor!, detail.customer.id);
    res.renderPage('admin/customers/show', {
      title: detail.customer.title,
      ...detail,
      ...labels,
      tabs,
      mapEnabled,
      canManage: can(req.actor, 'customer.manage'),
    });
  });

  // the devices map of the customer's groups: a feature the provider switches on per customer
  router.post(`${BASE}/:id/map`, ...allow('customer.manage'), async (req, res) => {
    const { title, enabled } = await setCustomerMap(
      ctx.db,
      req.actor!,
      idOf(req),
      String((req.body as { map?: unknown } | undefined)?.map ?? ''),
    );
    res.flash(
      'success',
      enabled
        ? `The devices map is on for ${title}: its people see a Map button on their groups.`
        : `The devices map is off for ${title}.`,
    );
    res.redirect(303, `${BASE}/${idOf(req)}`);
  });

  router.get(`${BASE}/:id/edit`, ...allow('customer.manage'), async (req, res) => {
    const { customer } = await getCustomer(ctx.db, req.actor!, idOf(req));
    const values = Object.fromEntries(
      Object.entries(emptyCustomerForm()).map(([k, v]) => [k, customer[k as keyof CustomerForm] ?? v]),
    ) as CustomerForm;
    await renderForm(req, res, { customer, values });
  });

  router.post(`${BASE}/:id`, ...allow('customer.manage'), async (req, res) => {
    const form = CustomerFormBody.parse(req.body ?? {});
    await orRerender(
      async () => {
        const customer = await updateCustomer(ctx.db, req.actor!, idOf(req), form);
        res.flash('success', `Customer ${customer.title} saved.`);
        res.redirect(303, `${BASE}/${customer.id}`);
      },
      async (errors, status) =>
        renderForm(req, res, {
          customer: (await getCustomer(ctx.db, req.actor!, idOf(req))).customer,
          values: form,
          errors,
          status,
        }),
    );
  });

  router.get(`${BASE}/:id/delete`, ...allow('customer.manage'), (req, res) => renderDelete(req, res));

  router.post(`${BASE}/:id/delete`, ...allow('customer.manage'), async (req, res) => {
    const { confirm_title } = DeleteBody.parse(req.body ?? {});
    await orRerender(
      async () => {
        const { title } = await deleteCustomer(ctx.db, req.actor!, idOf(req), confirm_title);
        res.flash('success', `Customer ${title} deleted.`);
        res.redirect(303, BASE);
      },
      (errors, status) => renderDelete(req, res, errors, status, confirm_title),
    );
  });

  router.get(`${BASE}/:id/audit`, ...allow('audit.view'), async (req, res) => {
    const page = await listAuditEntries(ctx.db, req.actor!, idOf(req), { before: req.query.before });
    res.renderPage('admin/customers/audit', {
      title: `Audit log · ${page.customer.title}`,
      ...page,
      tabs: customerTabsFor(req.actor!, page.customer.id),
    });
  });

  return router;
}
