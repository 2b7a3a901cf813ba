import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { customerSummary, ownSummary, type Summary, summaryCsv, summaryHref } from '../../services/billing/index.js';
import { can, customerTabsFor } from '../../services/access/index.js';
import { attachment, BILLING_SECTIONS, billingFormat } from '../../web/billing-format.js';

/** Call summaries Live / Daily / Monthly: staff for any customer of the tenant, a company admin for their own account. */

export const staffSummariesPath = (customerId: string) => `/admin/customers/${customerId}/billing/summaries`;
export const OWN_SUMMARIES_PATH = '/billing/summaries';

type SummaryPageOptions = { errors?: Record<string, string>; status?: number; ticked?: string[] };

/** The summaries page, for staff (with the invoice column) or for the customer; shared with the invoice route's re-render. */
export function renderSummaries(req: Request, res: Response, summary: Summary, opts: SummaryPageOptions = {}): void {
  const staff = !!req.params.id;
  const base = staff ? staffSummariesPath(summary.customer.id) : OWN_SUMMARIES_PATH;
  const title = `Call summaries · ${summary.customer.title}`;
  res.renderPage(
    'billing/summaries/index',
    {
      title,
      summary,
      base,
      href: (over: Partial<Summary['query']> = {}, suffix = '') =>
        summaryHref(base, { ...summary.query, ...over }, suffix),
      fmt: billingFormat(req),
      staff,
      canInvoice: staff && can(req.actor, 'invoice.manage'),
      invoicesHref: staff ? `/admin/customers/${summary.customer.id}/billing/invoices` : '/billing/invoices',
      customerTabs: staff ? customerTabsFor(req.actor!, summary.customer.id) : null,
      sections: BILLING_SECTIONS,
      errors: opts.errors ?? {},
      ticked: opts.ticked ?? [],
    },
    { fragment: 'billing/summaries/_table', status: opts.status },
  );
}

function sendCsv(res: Response, summary: Summary): void {
  const { filename, body } = summaryCsv(summary);
  res.set('Content-Disposition', attachment(filename)).type('text/csv; charset=utf-8').send(body);
}

export function billingSummaryRoutes(ctx: AppContext): Router {
  const router = Router();
  const STAFF = '/admin/customers/:id/billing/summaries';

  router.get(STAFF, ...allow('billing_summary.view'), async (req, res) => {
    renderSummaries(
      req,
      res,
      await customerSummary(ctx.db, req.actor!, String(req.params.id), req.query, ctx.clock.now()),
    );
  });
  router.get(`${STAFF}.csv`, ...allow('billing_summary.view'), async (req, res) => {
    sendCsv(res, await customerSummary(ctx.db, req.actor!, String(req.params.id), req.query, ctx.clock.now()));
  });
  router.get(OWN_SUMMARIES_PATH, ...allow('billing_summary.own'), async (req, res) => {
    renderSummaries(req, res, await ownSummary(ctx.db, req.actor!, req.query, ctx.clock.now()));
  });
  router.get(`${OWN_SUMMARIES_PATH}.csv`, ...allow('billing_summary.own'), async (req, res) => {
    sendCsv(res, await ownSummary(ctx.db, req.actor!, req.query, ctx.clock.now()));
  });
  return router;
}
