import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { idParam } from '../../web/forms.js';
import {
  getOwnInvoice,
  INVOICE_ACTION_LABELS,
  invoiceCsv,
  type InvoiceDetail,
  listOwnInvoices,
  nextStatuses,
} from '../../services/billing/index.js';
import { type Actor, customerTabsFor } from '../../services/access/index.js';
import { attachment, BILLING_SECTIONS, billingFormat } from '../../web/billing-format.js';
import { msg, type Msg } from '../../services/platform/index.js';
import { requestTranslator } from '../../web/locale.js';

/**
 * A company admin's issued invoices: the list, one invoice and its CSV. Staff see any customer's on
 * the same pages, their twin (admin/customers/billing/invoices.ts), where they generate them and move their status.
 */

const Params = z.object({ invoiceId: idParam() });

export const staffInvoicesPath = (customerId: string) => `/admin/customers/${customerId}/billing/invoices`;
const OWN_BASE = '/billing/invoices';

type InvoiceList = Awaited<ReturnType<typeof listOwnInvoices>>;

/** The list page, for the customer or, with the customer's tabs and the summaries link, for staff. */
export function renderInvoiceList(req: Request, res: Response, actor: Actor, data: InvoiceList, staff: boolean) {
  res.renderPage('billing/invoices/index', {
    title: msg('Invoices · {customer}', { customer: data.customer.title }),
    ...data,
    staff,
    base: staff ? staffInvoicesPath(data.customer.id) : OWN_BASE,
    summariesHref: staff ? `/admin/customers/${data.customer.id}/billing/summaries` : '/billing/summaries',
    customerTabs: staff ? customerTabsFor(actor, data.customer.id) : null,
    sections: BILLING_SECTIONS,
    fmt: billingFormat(req, res),
  });
}

/** One invoice; staff also get the status changes it allows next, and a refused change's message. */
export function renderInvoice(
  req: Request,
  res: Response,
  detail: InvoiceDetail,
  staff: boolean,
  refused: { errors: Record<string, Msg>; status: number } = { errors: {}, status: 200 },
) {
  res.renderPage(
    'billing/invoices/show',
    {
      title: msg('{invoice} · {customer}', { invoice: detail.invoice.numberLabel, customer: detail.customer.title }),
      ...detail,
      staff,
      base: staff ? staffInvoicesPath(detail.customer.id) : OWN_BASE,
      actions: staff
        ? nextStatuses(detail.invoice.status).map((s) => ({ status: s, label: INVOICE_ACTION_LABELS[s] }))
        : [],
      fmt: billingFormat(req, res),
      errors: refused.errors,
    },
    { status: refused.status },
  );
}

export function sendInvoiceCsv(res: Response, detail: InvoiceDetail) {
  const { filename, body } = invoiceCsv(detail, requestTranslator(res.req, res));
  res.set('Content-Disposition', attachment(filename)).type('text/csv; charset=utf-8').send(body);
}

export function invoiceRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    OWN_BASE,
    ...allow('invoice.own', async (req, res, actor) =>
      renderInvoiceList(req, res, actor, await listOwnInvoices(ctx.db, actor), false),
    ),
  );

  // the .csv first: `:invoiceId` alone would take "<id>.csv" as an id
  router.get(
    `${OWN_BASE}/:invoiceId.csv`,
    ...allow('invoice.own', async (req, res, actor) =>
      sendInvoiceCsv(res, await getOwnInvoice(ctx.db, actor, Params.parse(req.params).invoiceId)),
    ),
  );

  router.get(
    `${OWN_BASE}/:invoiceId`,
    ...allow('invoice.own', async (req, res, actor) =>
      renderInvoice(req, res, await getOwnInvoice(ctx.db, actor, Params.parse(req.params).invoiceId), false),
    ),
  );

  return router;
}
