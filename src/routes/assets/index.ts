import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import {
  ASSET_PAGE_SIZES,
  ASSET_TAB_LABELS,
  ASSET_TABS,
  assetFilterFrom,
  type AssetListFilter,
  assetListHref,
  assetsPageCsv,
  listAssets,
  streamAssetsCsv,
  todayIn,
} from '../../services/assets/index.js';
import { can, customerTabsFor } from '../../services/access/index.js';

const STAFF_BASE = '/admin/customers';
/** The file name is ours (tab and day), never user input, so it goes in quotes as it is. */
const attachment = (filename: string) => `attachment; filename="${filename}"`;
const numbers = new Intl.NumberFormat('en-GB');

export function assetListRoutes(ctx: AppContext): Router {
  const router = Router();
  const filterOf = (req: Request, customerId?: string): AssetListFilter => ({
    ...assetFilterFrom(req.query, todayIn(req.actor!.timeZone, ctx.clock.now())),
    ...(customerId ? { customerId } : {}),
  });
  const view = {
    tabs: ASSET_TABS,
    tabLabels: ASSET_TAB_LABELS,
    pageSizes: ASSET_PAGE_SIZES,
    href: assetListHref,
    formatNumber: (n: number) => numbers.format(n),
  };

  /** The page CSV is small and sent whole; the whole set streams from COPY and stops when the client leaves. */
  const sendCsv = async (req: Request, res: Response, filter: AssetListFilter) => {
    const csv = 'text/csv; charset=utf-8';
    if (req.query.scope === 'page') {
      const { filename, body } = await assetsPageCsv(ctx.db, req.actor!, filter);
      return void res.set('Content-Disposition', attachment(filename)).type(csv).send(body);
    }
    const leaving = new AbortController();
    res.on('close', () => leaving.abort());
    const { filename, stream } = await streamAssetsCsv(ctx.db, req.actor!, filter, { signal: leaving.signal });
    res.set('Content-Disposition', attachment(filename)).type(csv);
    await pipeline(stream, res).catch((err: { code?: string }) => {
      if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err; // the client left: nothing to answer
    });
  };

  router.get('/assets', ...allow('asset.view'), async (req, res) => {
    const list = await listAssets(ctx.db, req.actor!, filterOf(req));
    const base = '/assets';
    res.renderPage(
      'assets/index',
      { title: 'Assets', list, base, ...view, linkAssets: true, canRequest: can(req.actor, 'asset.request') },
      { fragment: 'assets/_list' },
    );
  });

  router.get('/assets.csv', ...allow('asset.view'), (req, res) => sendCsv(req, res, filterOf(req)));

  router.get(`${STAFF_BASE}/:id/assets`, ...allow('asset.staff_view'), async (req, res) => {
    const list = await listAssets(ctx.db, req.actor!, filterOf(req, String(req.params.id)));
    const customer = list.customer!;
    const tabs = customerTabsFor(req.actor!, customer.id);
    const base = `${STAFF_BASE}/${customer.id}/assets`;
    res.renderPage(
      'assets/index',
      {
        title: `Assets · ${customer.title}`,
        list,
        base,
        ...view,
        linkAssets: false,
        canRequest: false,
        customerTabs: tabs,
      },
      { fragment: 'assets/_list' },
    );
  });

  router.get(`${STAFF_BASE}/:id/assets.csv`, ...allow('asset.staff_view'), (req, res) =>
    sendCsv(req, res, filterOf(req, String(req.params.id))),
  );

  return router;
}
