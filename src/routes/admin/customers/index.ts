import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.js';
import { allow } from '../../../web/auth.js';
import { sendCsvStream } from '../../../web/downloads.js';
import { formText, idParam, orRerender } from '../../../web/forms.js';
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
  streamCustomerAuditCsv,
  listCustomers,
  listQueryFrom,
  parentChoices,
  updateCustomer,
} from '../../../services/customers/index.js';
import { customerMapEnabled, setCustomerMap } from '../../../services/groups/index.js';
import { type Actor, can, customerTabsFor } from '../../../services/access/index.js';
import {
  cursorParam,
  decodeSafeIdCursor,
  DEFAULT_PAGE_SIZE,
  listHref,
  PAGE_SIZES,
} from '../../../services/platform/index.js';
import { msg, type Msg } from '../../../services/platform/i18n.js';
import { requestTranslator } from '../../../web/locale.js';

const text = formText();
const Params = z.object({ id: idParam() });
const NewQuery = z.object({ parent: formText() });
// the id of the oldest entry of the previous page; one that cannot be an entry's answers 400
const AuditQuery = z.object({
  before: z
    .unknown()
    .optional()
    .transform((v) => cursorParam(v, decodeSafeIdCursor)),
});
const MapBody = z.object({ map: formText(10) });
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
const labels = {
  homePages: HOME_PAGES.map((v) => ({ value: v, label: HOME_PAGE_LABELS[v] })),
  statuses: CUSTOMER_STATUSES.map((v) => ({ value: v, label: CUSTOMER_STATUS_LABELS[v] })),
  statusLabels: CUSTOMER_STATUS_LABELS,
  homePageLabels: HOME_PAGE_LABELS,
};

type FormPage = { customer?: Customer; values: CustomerForm; errors?: Record<string, Msg>; status?: number };
type Refused = { errors?: Record<string, Msg>; status?: number; typed?: string };

export function adminCustomerRoutes(ctx: AppContext): Router {
  const router = Router();

  const renderForm = async (res: Response, actor: Actor, page: FormPage) => {
    const parents = await parentChoices(ctx.db, actor, page.customer?.id);
    const title = page.customer ? msg('Edit {customer}', { customer: page.customer.title }) : msg('New customer');
    res.renderPage(
      'admin/customers/form',
      { title, ...labels, ...page, errors: page.errors ?? {}, parents },
      { status: page.status },
    );
  };

  const renderDelete = async (res: Response, actor: Actor, id: string, refused: Refused = {}) => {
    const preview = await deletionPreview(ctx.db, actor, id);
    res.renderPage(
      'admin/customers/delete',
      {
        title: msg('Delete {customer}', { customer: preview.customer.title }),
        ...preview,
        errors: refused.errors ?? {},
        typed: refused.typed ?? '',
      },
      { status: refused.status ?? 200 },
    );
  };

  /** The form's fields as the customer has them now, to edit. */
  const valuesOf = (customer: Customer) =>
    Object.fromEntries(
      Object.entries(emptyCustomerForm()).map(([k, v]) => [k, customer[k as keyof CustomerForm] ?? v]),
    ) as CustomerForm;

  router.get(
    BASE,
    ...allow('customer.list', async (req, res, actor) => {
      const list = await listCustomers(ctx.db, actor, listQueryFrom(req.query));
      res.renderPage(
        'admin/customers/index',
        {
          title: msg('Customers'),
          list,
          pageSizes: PAGE_SIZES,
          // the pagination adds the page
          listBase: listHref(BASE, { q: list.q, size: list.size }, { size: DEFAULT_PAGE_SIZE }),
          statusLabels: CUSTOMER_STATUS_LABELS,
          canManage: can(actor, 'customer.manage'),
        },
        { fragment: 'admin/customers/_table' },
      );
    }),
  );

  router.get(
    `${BASE}/new`,
    ...allow('customer.manage', async (req, res, actor) => {
      const { parent } = NewQuery.parse(req.query);
      await renderForm(res, actor, { values: { ...emptyCustomerForm(), parent_id: parent } });
    }),
  );

  router.post(
    BASE,
    ...allow('customer.manage', async (req, res, actor) => {
      const form = CustomerFormBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const customer = await createCustomer(ctx.db, actor, form);
          res.flash('success', msg('Customer {customer} created.', { customer: customer.title }));
          res.redirect(303, `${BASE}/${customer.id}`);
        },
        (errors, status) => renderForm(res, actor, { values: form, errors, status }),
      );
    }),
  );

  router.get(
    `${BASE}/:id`,
    ...allow('customer.view', async (req, res, actor) => {
      const detail = await getCustomer(ctx.db, actor, Params.parse(req.params).id);
      const mapEnabled = await customerMapEnabled(ctx.db, actor, detail.customer.id);
      res.renderPage('admin/customers/show', {
        title: detail.customer.title,
        ...detail,
        ...labels,
        tabs: customerTabsFor(actor, detail.customer.id),
        mapEnabled,
        canManage: can(actor, 'customer.manage'),
      });
    }),
  );

  // the devices map of the customer's groups: a feature the provider switches on per customer
  router.post(
    `${BASE}/:id/map`,
    ...allow('customer.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const { title, enabled } = await setCustomerMap(ctx.db, actor, id, MapBody.parse(req.body ?? {}).map);
      res.flash(
        'success',
        enabled
          ? msg('The devices map is on for {customer}: its people see a Map button on their groups.', {
              customer: title,
            })
          : msg('The devices map is off for {customer}.', { customer: title }),
      );
      res.redirect(303, `${BASE}/${id}`);
    }),
  );

  router.get(
    `${BASE}/:id/edit`,
    ...allow('customer.manage', async (req, res, actor) => {
      const { customer } = await getCustomer(ctx.db, actor, Params.parse(req.params).id);
      await renderForm(res, actor, { customer, values: valuesOf(customer) });
    }),
  );

  router.post(
    `${BASE}/:id`,
    ...allow('customer.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = CustomerFormBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const customer = await updateCustomer(ctx.db, actor, id, form);
          res.flash('success', msg('Customer {customer} saved.', { customer: customer.title }));
          res.redirect(303, `${BASE}/${customer.id}`);
        },
        async (errors, status) => {
          const { customer } = await getCustomer(ctx.db, actor, id);
          await renderForm(res, actor, { customer, values: form, errors, status });
        },
      );
    }),
  );

  router.get(
    `${BASE}/:id/delete`,
    ...allow('customer.manage', (req, res, actor) => renderDelete(res, actor, Params.parse(req.params).id)),
  );

  router.post(
    `${BASE}/:id/delete`,
    ...allow('customer.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const { confirm_title } = DeleteBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { title } = await deleteCustomer(ctx.db, actor, id, confirm_title);
          res.flash('success', msg('Customer {customer} deleted.', { customer: title }));
          res.redirect(303, BASE);
        },
        (errors, status) => renderDelete(res, actor, id, { errors, status, typed: confirm_title }),
      );
    }),
  );

  router.get(
    `${BASE}/:id/audit.csv`,
    ...allow('audit.view', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const download = await streamCustomerAuditCsv(ctx.db, actor, id, requestTranslator(req, res));
      res.on('close', () => download.stream.destroy());
      await sendCsvStream(res, download, ctx.config.exportSendTimeoutMs);
    }),
  );

  router.get(
    `${BASE}/:id/audit`,
    ...allow('audit.view', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const page = await listAuditEntries(ctx.db, actor, id, AuditQuery.parse(req.query));
      res.renderPage('admin/customers/audit', {
        title: msg('Audit log · {customer}', { customer: page.customer.title }),
        ...page,
        tabs: customerTabsFor(actor, page.customer.id),
      });
    }),
  );

  return router;
}
