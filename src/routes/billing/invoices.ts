import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { ConflictError, ValidationError } from '../../errors.js';
import { allow } from '../../web/auth.js';
import {
  customerSummary,
  generateInvoice,
  getCustomerInvoice,
  getOwnInvoice,
  INVOICE_ACTION_LABELS,
  invoiceCsv,
  type InvoiceDetail,
  listCustomerInvoices,
  listOwnInvoices,
  nextStatuses,
  setInvoiceStatus,
} from '../../services/billing/index.js';
import { customerTabsFor } from '../../services/access/index.js';
import { attachment, BILLING_SECTIONS, billingFormat } from '../../web/billing-format.js';
import { renderSummaries } from './summaries.js';

/** Invoices: staff generate them from ticked summary rows, list them and move their status; customers see and download issued ones. */

const GenerateBody = z.object({
  granularity: z.unknown().optional(),
  product: z.unknown().optional(),
  periods: z.unknown().optional(),
});
const StatusBody = z.object({ status: z.unknown().optional(), confirm: z.unknown().optional() });

const staffBase = (customerId: string) => `/admin/customers/${customerId}/billing/invoices`;
const OWN_BASE = '/billing/invoices';

export function invoiceRoutes(ctx: AppContext): Router {
  const router = Router();
  const STAFF = '/admin/customers/:id/billing/invoices';
  const customerOf = (req: Request) => String(req.params.id);

  const renderList = (req: Request, res: Response, data: Awaited<ReturnType<typeof listOwnInvoices>>, staff: boolean) =>
    res.renderPage('billing/invoices/index', {
      title: `Invoices · ${data.customer.title}`,
      ...data,
      staff,
      base: staff ? staffBase(data.customer.id) : OWN_BASE,
      summariesHref: staff ? `/admin/customers/${data.customer.id}/billing/summaries` : '/billing/summaries',
      customerTabs: staff ? customerTabsFor(req.actor!, data.customer.id) : null,
      sections: BILLING_SECTIONS,
      fmt: billingFormat(req),
    });

  const renderInvoice = (
    req: Request,
    res: Response,
    detail: InvoiceDetail,
    staff: boolean,
    errors: Record<string, string> = {},
    status = 200,
  ) =>
    res.renderPage(
      'billing/invoices/show',
      {
        title: `${detail.invoice.numberLabel} · ${detail.customer.title}`,
        ...detail,
        staff,
        base: staff ? staffBase(detail.customer.id) : OWN_BASE,
        actions: staff
          ? nextStatuses(detail.invoice.status).map((s) => ({ status: s, label: INVOICE_ACTION_LABELS[s] }))
          : [],
        fmt: billingFormat(req),
        errors,
      },
      { status },
    );

  const sendCsv = (res: Response, detail: InvoiceDetail) => {
    const { filename, body } = invoiceCsv(detail);
    res.set('Content-Disposition', attachment(filename)).type('text/csv; charset=utf-8').send(body);
  };

  // "Generate invoice" on the summaries page; refused input re-renders that page with the ticks kept
  router.post(STAFF, ...allow('invoice.manage'), async (req, res) => {
    const body = GenerateBody.parse(req.body ?? {});
    try {
      const invoice = await generateInvoice(ctx.db, req.actor!, customerOf(req), body, ctx.clock.now());
      res.flash('success', `Invoice ${invoice.numberLabel} created as a draft. Issue it to show it to the customer.`);
      res.redirect(303, `${staffBase(invoice.customer_id)}/${invoice.id}`);
    } catch (err) {
      if (!(err instanceof ValidationError) && !(err instanceof ConflictError)) throw err;
      const errors = err instanceof ValidationError ? err.fields : { periods: err.message };
      const ticked = (Array.isArray(body.periods) ? body.periods : [body.periods]).filter(
        (v): v is string => typeof v === 'string',
      );
      const query = { view: body.granularity, product: body.product, from: req.query.from, to: req.query.to };
      const summary = await customerSummary(ctx.db, req.actor!, customerOf(req), query, ctx.clock.now());
      renderSummaries(req, res, summary, { errors, status: err instanceof ValidationError ? 422 : 409, ticked });
    }
  });

  router.get(STAFF, ...allow('invoice.manage'), async (req, res) => {
    renderList(req, res, await listCustomerInvoices(ctx.db, req.actor!, customerOf(req)), true);
  });
  // the .csv first: `:invoiceId` alone would take "<id>.csv" as an id
  router.get(`${STAFF}/:invoiceId.csv`, ...allow('invoice.manage'), async (req, res) => {
    sendCsv(res, await getCustomerInvoice(ctx.db, req.actor!, customerOf(req), String(req.params.invoiceId)));
  });
  router.get(`${STAFF}/:invoiceId`, ...allow('invoice.manage'), async (req, res) => {
    renderInvoice(
      req,
      res,
      await getCustomerInvoice(ctx.db, req.actor!, customerOf(req), String(req.params.invoiceId)),
      true,
    );
  });
  router.post(`${STAFF}/:invoiceId/status`, ...allow('invoice.manage'), async (req, res) => {
    const { status, confirm } = StatusBody.parse(req.body ?? {});
    const invoiceId = String(req.params.invoiceId);
    try {
      const invoice = await setInvoiceStatus(ctx.db, req.actor!, customerOf(req), invoiceId, status, ctx.clock.now(), {
        confirmed: confirm === 'yes',
      });
      res.flash('success', `Invoice ${invoice.numberLabel} is now ${invoice.statusLabel.toLowerCase()}.`);
      res.redirect(303, `${staffBase(invoice.customer_id)}/${invoice.id}`);
    } catch (err) {
      if (!(err instanceof ValidationError) && !(err instanceof ConflictError)) throw err;
      const errors = err instanceof ValidationError ? err.fields : { status: err.message };
      renderInvoice(
        req,
        res,
        await getCustomerInvoice(ctx.db, req.actor!, customerOf(req), invoiceId),
        true,
        errors,
        err instanceof ValidationError ? 422 : 409,
      );
    }
  });

  router.get(OWN_BASE, ...allow('invoice.own'), async (req, res) => {
    renderList(req, res, await listOwnInvoices(ctx.db, req.actor!), false);
  });
  router.get(`${OWN_BASE}/:invoiceId.csv`, ...allow('invoice.own'), async (req, res) => {
    sendCsv(res, await getOwnInvoice(ctx.db, req.actor!, String(req.params.invoiceId)));
  });
  router.get(`${OWN_BASE}/:invoiceId`, ...allow('invoice.own'), async (req, res) => {
    renderInvoice(req, res, await getOwnInvoice(ctx.db, req.actor!, String(req.params.invoiceId)), false);
  });
  return router;
}
