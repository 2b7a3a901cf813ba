import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { readDb } from '../../web/replica.js';
import { ownSummary, type Summary, summaryCsv, summaryHref } from '../../services/billing/index.js';
import { type Actor, can, customerTabsFor } from '../../services/access/index.js';
import { attachment, BILLING_SECTIONS, billingFormat } from '../../web/billing-format.js';
import { msg, type Msg } from '../../services/platform/index.js';
import { requestTranslator } from '../../web/locale.js';

/**
 * Call summaries Live / Daily / Monthly of a company admin's own account. Staff see any customer's
 * on the same page, its twin (admin/customers/billing/summaries.ts), with the invoice column.
 */

export const staffSummariesPath = (customerId: string) => `/admin/customers/${customerId}/billing/summaries`;
export const OWN_SUMMARIES_PATH = '/billing/summaries';

type SummaryPage = { staff: boolean; errors?: Record<string, Msg>; status?: number; ticked?: string[] };

/** The summaries page, for staff (with the invoice column) or for the customer; also the invoice form's re-render. */
export function renderSummaries(req: Request, res: Response, actor: Actor, summary: Summary, page: SummaryPage): void {
  const { staff } = page;
  const base = staff ? staffSummariesPath(summary.customer.id) : OWN_SUMMARIES_PATH;
  res.renderPage(
    'billing/summaries/index',
    {
      title: msg('Call summaries · {customer}', { customer: summary.customer.title }),
      summary,
      base,
      href: (over: Partial<Summary['query']> = {}, suffix = '') =>
        summaryHref(base, { ...summary.query, ...over }, suffix),
      fmt: billingFormat(req, res),
      staff,
      canInvoice: staff && can(actor, 'invoice.manage'),
      invoicesHref: staff ? `/admin/customers/${summary.customer.id}/billing/invoices` : '/billing/invoices',
      customerTabs: staff ? customerTabsFor(actor, summary.customer.id) : null,
      sections: BILLING_SECTIONS,
      errors: page.errors ?? {},
      ticked: page.ticked ?? [],
    },
    { fragment: 'billing/summaries/_table', status: page.status },
  );
}

/** The rows the page shows, as a CSV file. */
export function sendSummaryCsv(res: Response, summary: Summary): void {
  const { filename, body } = summaryCsv(summary, requestTranslator(res.req, res));
  res.set('Content-Disposition', attachment(filename)).type('text/csv; charset=utf-8').send(body);
}

export function billingSummaryRoutes(ctx: AppContext): Router {
  const router = Router();

  // the service reads the view, product and period from the query string, as the page's links write them
  router.get(
    OWN_SUMMARIES_PATH,
    ...allow('billing_summary.own', async (req, res, actor) => {
      const summary = await ownSummary(readDb(ctx, req), actor, req.query, ctx.clock.now());
      renderSummaries(req, res, actor, summary, { staff: false });
    }),
  );

  router.get(
    `${OWN_SUMMARIES_PATH}.csv`,
    ...allow('billing_summary.own', async (req, res, actor) =>
      sendSummaryCsv(res, await ownSummary(readDb(ctx, req), actor, req.query, ctx.clock.now())),
    ),
  );

  return router;
}
