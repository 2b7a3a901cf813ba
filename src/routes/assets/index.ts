import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { allow } from '../../web/auth.js';
import { sendCsvStream } from '../../web/downloads.js';
import { readDb } from '../../web/replica.js';
import { formText, idParam, orRerender } from '../../web/forms.js';
import {
  ASSET_TAB_LABELS,
  ASSET_TABS,
  BULK_ACTION_LABELS,
  BULK_ACTIONS,
  listAssetsWithGroupChoices,
  assetFilterFrom,
  type AssetList,
  type AssetListFilter,
  assetListHref,
  assetsPageCsv,
  cancelDeactivation,
  confirmRenewal,
  deactivationPreview,
  findByIdentifier,
  formatDay,
  getAsset,
  listAssets,
  moveAsset,
  requestActivation,
  requestDeactivation,
  streamAssetsCsv,
  todayIn,
} from '../../services/assets/index.js';
import { type Actor, can } from '../../services/access/index.js';
import { ticketsOfAsset } from '../../services/tickets/index.js';
import { DEFAULT_PAGE_SIZE, PAGE_SIZES } from '../../services/platform/index.js';
import { msg, type Msg } from '../../services/platform/i18n.js';
import { requestLanguage, requestTranslator } from '../../web/locale.js';
import { setDayLabels, withDayLabels } from './day-labels.js';

/** The asset list and its CSV; one asset's page and the requests made from it; the deep link other platforms use. */

const Params = z.object({ id: idParam() });
const IdentifierParams = z.object({ identifier: formText() });
const CsvQuery = z.object({ scope: formText(10) });
const MoveBody = z.object({ group_id: formText(100) });

/** The file name is ours (tab and day), never user input, so it goes in quotes as it is. */
const attachment = (filename: string) => `attachment; filename="${filename}"`;
const CANNOT_SEE_DEVICE = msg(
  'You cannot see this device with your account. If you should, ask your company admin for access.',
);

type Problems = { errors?: Record<string, Msg>; values?: Record<string, Msg>; status?: number };

/** The list's filter from its query string, in the actor's day; staff name the customer whose assets they see. */
export const assetFilter = (ctx: AppContext, req: Request, actor: Actor, customerId?: string): AssetListFilter => ({
  ...assetFilterFrom(req.query, todayIn(actor.timeZone, ctx.clock.now())),
  ...(customerId ? { customerId } : {}),
});

/** The asset list page, shared with its staff twin (admin/customers/assets.ts), which passes the customer's tabs. */
export function renderAssetList(
  res: Response,
  list: AssetList,
  page: {
    title: Msg;
    base: string;
    linkAssets: boolean;
    /** where an asset's page is, before its id (the customer's /assets/ unless given) */
    assetBase?: string;
    canRequest: boolean;
    /** staff who manage the customer's devices: "Register a device" */
    canManage?: boolean;
    customerTabs?: unknown;
    /** /assets for those who may act: the bulk form's choices */
    bulk?: { actions: { value: string; label: string }[]; groups: { id: string; label: string }[] } | null;
  },
): void {
  const i18n = requestTranslator(res.req, res);
  setDayLabels(res.req, res);
  res.renderPage(
    'assets/index',
    {
      list,
      tabs: ASSET_TABS,
      tabLabels: ASSET_TAB_LABELS,
      pageSizes: PAGE_SIZES,
      defaultPageSize: DEFAULT_PAGE_SIZE,
      href: assetListHref,
      formatNumber: (n: number) => i18n.number(n),
      ...page,
    },
    { fragment: 'assets/_list' },
  );
}

/** The page CSV is small and sent whole; the whole set streams from COPY and stops when the client leaves. */
export async function sendAssetsCsv(
  ctx: AppContext,
  req: Request,
  res: Response,
  actor: Actor,
  filter: AssetListFilter,
): Promise<void> {
  const csv = 'text/csv; charset=utf-8';
  const db = readDb(ctx, req);
  const tr = requestTranslator(req, res);
  if (CsvQuery.parse(req.query).scope === 'page') {
    const { filename, body } = await assetsPageCsv(db, actor, filter, tr);
    return void res.set('Content-Disposition', attachment(filename)).type(csv).send(body);
  }
  const leaving = new AbortController();
  res.on('close', () => leaving.abort());
  const download = await streamAssetsCsv(db, actor, filter, { signal: leaving.signal, tr });
  await sendCsvStream(res, download, ctx.config.exportSendTimeoutMs);
}

export function assetRoutes(ctx: AppContext): Router {
  const router = Router();
  const now = () => ctx.clock.now();
  router.use('/assets', withDayLabels);

  const renderAsset = async (res: Response, actor: Actor, id: string, opts: Problems = {}) => {
    const page = await getAsset(ctx.db, actor, id, now());
    const tickets = await ticketsOfAsset(ctx.db, actor, page.asset.id);
    res.renderPage(
      'assets/show',
      {
        // a name is the customer's text, not a message: a placeholder keeps its braces and quotes as they are
        title: msg('{name}', { name: page.asset.name || page.asset.identifier }),
        ...page,
        tickets,
        canOpenTicket: can(actor, 'ticket.open'),
        canViewCdrs: can(actor, 'cdr.view'),
        errors: opts.errors ?? {},
        values: opts.values ?? {},
      },
      { status: opts.status },
    );
  };

  /** A request made from the asset's page: done, its note and back to the page; refused, the page with the reason. */
  const fromAssetPage =
    (change: (actor: Actor, id: string, req: Request, res: Response) => Promise<Msg>) =>
    async (req: Request, res: Response, actor: Actor) => {
      const { id } = Params.parse(req.params);
      await orRerender(
        async () => {
          res.flash('success', await change(actor, id, req, res));
          res.redirect(303, `/assets/${id}`);
        },
        (errors, status) => renderAsset(res, actor, id, { errors, status }),
      );
    };

  router.get(
    '/assets',
    ...allow('asset.view', async (req, res, actor) => {
      const canRequest = can(actor, 'asset.request');
      const filter = assetFilter(ctx, req, actor);
      const { list, groups } = canRequest
        ? await listAssetsWithGroupChoices(readDb(ctx, req), actor, filter)
        : { list: await listAssets(readDb(ctx, req), actor, filter), groups: null };
      const bulk = groups
        ? { actions: BULK_ACTIONS.map((a) => ({ value: a, label: BULK_ACTION_LABELS[a] })), groups }
        : null;
      renderAssetList(res, list, { title: msg('Assets'), base: '/assets', linkAssets: true, canRequest, bulk });
    }),
  );

  router.get(
    '/assets.csv',
    ...allow('asset.view', (req, res, actor) => sendAssetsCsv(ctx, req, res, actor, assetFilter(ctx, req, actor))),
  );

  router.get(
    '/assets/by-identifier/:identifier',
    ...allow('asset.view', async (req, res, actor) => {
      const found = await findByIdentifier(ctx.db, actor, IdentifierParams.parse(req.params).identifier);
      // the same answer whether the device is someone else's or unknown: existence is not revealed
      if (found.found !== 'in_reach') throw new NotFoundError(CANNOT_SEE_DEVICE);
      res.redirect(303, `/assets/${found.asset.id}`);
    }),
  );

  router.get(
    '/assets/:id',
    ...allow('asset.view', (req, res, actor) => renderAsset(res, actor, Params.parse(req.params).id)),
  );

  router.post(
    '/assets/:id/activation-request',
    ...allow(
      'asset.request',
      fromAssetPage(async (actor, id) => {
        const { kind } = await requestActivation(ctx.db, actor, id);
        const provider = { provider: actor.tenantName };
        return kind === 'activation'
          ? msg('Activation requested: the asset shows as Activation pending until {provider} approves it.', provider)
          : msg(
              'Reactivation requested: the asset shows as Activation pending until {provider} approves it.',
              provider,
            );
      }),
    ),
  );

  router.post(
    '/assets/:id/renewal-confirmation',
    ...allow(
      'asset.request',
      fromAssetPage(async (actor, id, req, res) => {
        const { termEnd } = await confirmRenewal(ctx.db, actor, id);
        return termEnd
          ? msg('Renewal confirmed: the current term runs until {day}.', {
              day: formatDay(termEnd, requestLanguage(req, res)),
            })
          : msg('Renewal confirmed.');
      }),
    ),
  );

  router.get(
    '/assets/:id/deactivation-request',
    ...allow('asset.request', async (req, res, actor) => {
      const preview = await deactivationPreview(ctx.db, actor, Params.parse(req.params).id, now());
      res.renderPage('assets/deactivation', {
        title: msg('Request deactivation of {name}', { name: preview.asset.name || preview.asset.identifier }),
        ...preview,
      });
    }),
  );

  router.post(
    '/assets/:id/deactivation-request',
    ...allow(
      'asset.request',
      fromAssetPage(async (actor, id, req, res) => {
        const { effectiveOn } = await requestDeactivation(ctx.db, actor, id, now());
        return msg('Deactivation requested: it takes effect on {day}.', {
          day: formatDay(effectiveOn, requestLanguage(req, res)),
        });
      }),
    ),
  );

  router.post(
    '/assets/:id/deactivation-request/cancel',
    ...allow(
      'asset.request',
      fromAssetPage(async (actor, id) => {
        await cancelDeactivation(ctx.db, actor, id);
        return msg('Deactivation cancelled: the asset stays active.');
      }),
    ),
  );

  router.post(
    '/assets/:id/group',
    ...allow('asset.request', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = MoveBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { path } = await moveAsset(ctx.db, actor, id, form.group_id);
          res.flash('success', msg('Moved to {path}.', { path }));
          res.redirect(303, `/assets/${id}`);
        },
        (errors, status) => renderAsset(res, actor, id, { errors, values: form, status }),
      );
    }),
  );

  return router;
}
