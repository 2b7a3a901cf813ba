import { pipeline } from 'node:stream/promises';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { wantsFragment } from '../../web/render.js';
import { DIRECTIONS, formatMoney, PRODUCT_LABELS } from '../../services/billing/index.js';
import {
  dailyChart,
  DIRECTION_LABELS,
  getPartnerCustomer,
  listPartnerCustomers,
  partnerDailyUsage,
  partnerUsageLog,
  PRODUCT_STATUSES,
  streamPartnerUsageCsv,
  USAGE_PAGE_SIZES,
  USAGE_STATUS_LABELS,
  usageFilterFrom,
  usageListHref,
} from '../../services/partners/index.js';
import { todayIn } from '../../services/assets/index.js';
import { formText } from '../../web/forms.js';

const ListQuery = z.object({
  q: formText().transform((v) => v.slice(0, 200)),
  page: z.coerce.number().int().min(1).max(100_000).catch(1),
});
const numbers = new Intl.NumberFormat('en-GB');
const id = (req: Request) => String(req.params.id ?? '');
const product = (req: Request) => String(req.params.product ?? '');

/** Partner viewers: their assigned customers and masked usage logs. Read only: GET routes alone. */
export function partnerViewRoutes(ctx: AppContext): Router {
  const router = Router();
  const partner = allow('partner.customers.view');
  const view = { productLabels: PRODUCT_LABELS, formatNumber: (n: number) => numbers.format(n) };

  router.get('/partner/customers', ...partner, async (req, res) => {
    const list = await listPartnerCustomers(ctx.db, req.actor!, ListQuery.parse(req.query));
    res.renderPage(
      'partner/customers/index',
      { title: 'Manage customers', list, ...view },
      { fragment: 'partner/customers/_table' },
    );
  });

  router.get('/partner/customers/:id', ...partner, async (req, res) => {
    const customer = await getPartnerCustomer(ctx.db, req.actor!, id(req));
    res.renderPage('partner/customers/show', {
      title: customer.title,
      customer,
      current: 'overview',
      ...view,
      formatMoney,
    });
  });

  const filterOf = (req: Request) => usageFilterFrom(req.query, todayIn(req.actor!.timeZone, ctx.clock.now()));

  // before the log's route, which would otherwise take "sms.csv" for a product
  router.get('/partner/customers/:id/usage/:product.csv', ...partner, async (req, res) => {
    const leaving = new AbortController();
    res.on('close', () => leaving.abort());
    const { filename, stream } = await streamPartnerUsageCsv(ctx.db, req.actor!, id(req), product(req), {
      ...filterOf(req),
      after: null,
    });
    leaving.signal.addEventListener('abort', () => stream.destroy(), { once: true });
    res.set('Content-Disposition', `attachment; filename="${filename}"`).type('text/csv; charset=utf-8');
    await pipeline(stream, res).catch((err: { code?: string }) => {
      if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
    });
  });

  router.get('/partner/customers/:id/usage/:product', ...partner, async (req, res) => {
    const filter = filterOf(req);
    const log = await partnerUsageLog(ctx.db, req.actor!, id(req), product(req), filter);
    const today = todayIn(req.actor!.timeZone, ctx.clock.now());
    const base = `/partner/customers/${log.customer.id}/usage/${log.product}`;
    const data = {
      title: `${log.productLabel} · ${log.customer.title}`,
      log,
      customer: log.customer,
      current: log.product,
      base,
      today,
      ...view,
      href: (after?: string | null) => usageListHref(base, filter, today, after),
      csvHref: usageListHref(`${base}.csv`, filter, today),
      directions: DIRECTIONS.map((d) => ({ value: d, label: DIRECTION_LABELS[d] })),
      statuses: PRODUCT_STATUSES[log.product].map((s) => ({ value: s, label: USAGE_STATUS_LABELS[s] })),
      pageSizes: USAGE_PAGE_SIZES,
      formatMoney,
    };
    // the next page swaps only the table (htmx 4 names its target); a new filter (or the whole page) draws the chart of the period too
    if (wantsFragment(req) && (filter.after || req.get('HX-Target') === 'div#usage-log'))
      return res.renderPage('partner/customers/usage/_log', data, { fragment: 'partner/customers/usage/_log' });
    const days = await partnerDailyUsage(ctx.db, req.actor!, log.customer.id, log.product, filter);
    res.renderPage(
      'partner/customers/usage/index',
      { ...data, chart: dailyChart(days, filter) },
      { fragment: 'partner/customers/usage/_results' },
    );
  });

  return router;
}
