import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.js';
import { allow } from '../../../web/auth.js';
import { sendCsvStream } from '../../../web/downloads.js';
import { idParam } from '../../../web/forms.js';
import { readDb } from '../../../web/replica.js';
import { wantsFragment } from '../../../web/render.js';
import type { Actor } from '../../../services/access/index.js';
import { DIRECTIONS, formatMoney, PRODUCT_LABELS } from '../../../services/billing/index.js';
import {
  dailyChart,
  DIRECTION_LABELS,
  partnerUsageLog,
  partnerUsageWithChart,
  PRODUCT_STATUSES,
  streamPartnerUsageCsv,
  type UsageLog,
  type UsageLogFilter,
  USAGE_STATUS_LABELS,
  usageFilterFrom,
  usageListHref,
} from '../../../services/partners/index.js';
import { todayIn } from '../../../services/assets/index.js';
import { PAGE_SIZES } from '../../../services/platform/index.js';
import { msg, type Translator } from '../../../services/platform/index.js';
import { requestTranslator } from '../../../web/locale.js';
import { secondsTime } from '../../../web/billing-format.js';

/** Partner viewers: a customer's masked usage log of one product, its daily chart, and its CSV. */

const Params = z.object({ id: idParam(), product: idParam() });

export function partnerUsageRoutes(ctx: AppContext): Router {
  const router = Router();
  const today = (actor: Actor) => todayIn(actor.timeZone, ctx.clock.now());
  const filterOf = (req: Request, actor: Actor) => usageFilterFrom(req.query, today(actor));

  // before the log's route, which would otherwise take "sms.csv" for a product
  router.get(
    '/partner/customers/:id/usage/:product.csv',
    ...allow('partner.customers.view', async (req, res, actor) => {
      const { id, product } = Params.parse(req.params);
      const leaving = new AbortController();
      res.on('close', () => leaving.abort());
      const filter = { ...filterOf(req, actor), after: null };
      const download = await streamPartnerUsageCsv(
        readDb(ctx, req),
        actor,
        id,
        product,
        filter,
        requestTranslator(req, res),
      );
      leaving.signal.addEventListener('abort', () => download.stream.destroy(), { once: true });
      await sendCsvStream(res, download, ctx.config.exportSendTimeoutMs);
    }),
  );

  router.get(
    '/partner/customers/:id/usage/:product',
    ...allow('partner.customers.view', async (req, res, actor) => {
      const { id, product } = Params.parse(req.params);
      const filter = filterOf(req, actor);
      const db = readDb(ctx, req);
      const i18n = requestTranslator(req, res);
      // the next page swaps only the table (htmx 4 names its target); a new filter (or the whole page) draws
      // the chart of the period too, read in the same round trip as the log
      if (wantsFragment(req) && (filter.after || req.get('HX-Target') === 'div#usage-log')) {
        const log = await partnerUsageLog(db, actor, id, product, filter);
        const data = usageLogData(log, filter, today(actor), i18n, actor.timeZone);
        return res.renderPage('partner/customers/usage/_log', data, { fragment: 'partner/customers/usage/_log' });
      }
      const { log, days } = await partnerUsageWithChart(db, actor, id, product, filter);
      const data = usageLogData(log, filter, today(actor), i18n, actor.timeZone);
      res.renderPage(
        'partner/customers/usage/index',
        { ...data, chart: dailyChart(days, filter) },
        { fragment: 'partner/customers/usage/_results' },
      );
    }),
  );

  return router;
}

/** What the log, its filters and its links show, for the whole page and for the table alone. */
function usageLogData(log: UsageLog, filter: UsageLogFilter, today: string, i18n: Translator, timeZone: string) {
  const base = `/partner/customers/${log.customer.id}/usage/${log.product}`;
  return {
    title: msg('{product} · {customer}', { product: i18n.t(log.productLabel), customer: log.customer.title }),
    log,
    customer: log.customer,
    current: log.product,
    base,
    today,
    productLabels: PRODUCT_LABELS,
    formatNumber: (n: number) => i18n.number(n),
    formatTime: secondsTime(i18n, timeZone),
    href: (after?: string | null) => usageListHref(base, filter, today, after),
    csvHref: usageListHref(`${base}.csv`, filter, today),
    directions: DIRECTIONS.map((d) => ({ value: d, label: DIRECTION_LABELS[d] })),
    statuses: PRODUCT_STATUSES[log.product].map((s) => ({ value: s, label: USAGE_STATUS_LABELS[s] })),
    pageSizes: PAGE_SIZES,
    formatMoney: (minor: bigint | number | string, currency: string) => formatMoney(minor, currency, i18n.formatLocale),
  };
}
