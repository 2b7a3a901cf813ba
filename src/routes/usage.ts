import { Router, type Request } from 'express';
import type { AppContext } from '../context.js';
import { allow } from '../web/auth.js';
import { BILLING_SECTIONS, secondsTime } from '../web/billing-format.js';
import { sendCsvStream } from '../web/downloads.js';
import { readDb } from '../web/replica.js';
import { wantsFragment } from '../web/render.js';
import type { Actor } from '../services/access/index.js';
import {
  DIRECTIONS,
  formatMoney,
  ownDailyUsage,
  ownUsageLog,
  ownUsageProduct,
  PRODUCT_LABELS,
  PRODUCTS,
  streamOwnUsageCsv,
  type OwnUsageLog,
} from '../services/billing/index.js';
import {
  dailyChart,
  DIRECTION_LABELS,
  PRODUCT_STATUSES,
  USAGE_STATUS_LABELS,
  usageFilterFrom,
  usageListHref,
} from '../services/partners/index.js';
import { todayIn } from '../services/assets/index.js';
import { PAGE_SIZES } from '../services/platform/index.js';
import { msg, type Translator } from '../services/platform/index.js';
import { requestTranslator } from '../web/locale.js';

/**
 * Company admins: their own usage records of one product (/usage), numbers in full, with the partner
 * log's filters, keyset pages, chart, CSV (/usage.csv) and templates.
 */

export function usageRoutes(ctx: AppContext): Router {
  const router = Router();
  const today = (actor: Actor) => todayIn(actor.timeZone, ctx.clock.now());
  const inputOf = (req: Request, actor: Actor) => ({
    customerId: req.query.customer,
    product: ownUsageProduct(req.query.product),
    filter: usageFilterFrom(req.query, today(actor)),
  });

  router.get(
    '/usage.csv',
    ...allow('usage.view_own', async (req, res, actor) => {
      const input = inputOf(req, actor);
      const download = await streamOwnUsageCsv(readDb(ctx, req), actor, input, requestTranslator(req, res));
      res.on('close', () => download.stream.destroy());
      await sendCsvStream(res, download, ctx.config.exportSendTimeoutMs);
    }),
  );

  router.get(
    '/usage',
    ...allow('usage.view_own', async (req, res, actor) => {
      const input = inputOf(req, actor);
      const db = readDb(ctx, req);
      const log = await ownUsageLog(db, actor, input);
      const data = usageData(log, actor, today(actor), requestTranslator(req, res));
      // the next page swaps only the table; a new filter (or the whole page) draws the period's chart too
      if (wantsFragment(req) && (input.filter.after || req.get('HX-Target') === 'div#usage-log'))
        return res.renderPage('partner/customers/usage/_log', data, { fragment: 'partner/customers/usage/_log' });
      const days = await ownDailyUsage(db, actor, log.customer.id, log.product, log.filter);
      res.renderPage(
        'usage/index',
        { ...data, chart: dailyChart(days, log.filter) },
        { fragment: 'partner/customers/usage/_results' },
      );
    }),
  );

  return router;
}

/** The page's data: the partner log's shape (its templates draw it), with /usage's own addresses. */
function usageData(log: OwnUsageLog, actor: Actor, today: string, i18n: Translator) {
  // the product, and the customer when it is not the person's own, lead every address of the list
  const keep: Record<string, string> = { product: log.product };
  if (log.customer.id !== actor.customerId) keep.customer = log.customer.id;
  const withKeep = (href: string) => {
    const url = new URL(href, 'http://portico.invalid');
    const query = new URLSearchParams(keep);
    url.searchParams.forEach((v, k) => query.set(k, v));
    return `${url.pathname}?${query.toString()}`;
  };
  return {
    title: msg('{product} usage', { product: i18n.t(log.productLabel) }),
    log,
    customer: log.customer,
    customers: log.customers,
    base: '/usage',
    keep,
    today,
    products: PRODUCTS.map((p) => ({
      value: p,
      label: PRODUCT_LABELS[p],
      href: withKeep(`/usage?product=${p}`),
    })),
    href: (after?: string | null) => withKeep(usageListHref('/usage', log.filter, today, after)),
    csvHref: withKeep(usageListHref('/usage.csv', log.filter, today)),
    directions: DIRECTIONS.map((d) => ({ value: d, label: DIRECTION_LABELS[d] })),
    statuses: PRODUCT_STATUSES[log.product].map((s) => ({ value: s, label: USAGE_STATUS_LABELS[s] })),
    pageSizes: PAGE_SIZES,
    productLabels: PRODUCT_LABELS,
    formatNumber: (n: number) => i18n.number(n),
    formatTime: secondsTime(i18n, actor.timeZone),
    formatMoney: (minor: bigint | number | string, currency: string) => formatMoney(minor, currency, i18n.formatLocale),
    sections: BILLING_SECTIONS,
    current: 'usage',
  };
}
