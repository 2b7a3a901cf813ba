import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { formList, formText, idParam, orRerender } from '../../web/forms.js';
import {
  assetFilterFrom,
  BULK_ACTION_LABELS,
  BULK_ACTIONS,
  bulkActionCsv,
  bulkGroupChoices,
  getBulkAction,
  previewBulkAction,
  runBulkAction,
  todayIn,
  type BulkSelection,
} from '../../services/assets/index.js';
import type { Actor } from '../../services/access/index.js';
import { msg, type Msg } from '../../services/platform/i18n.js';
import { requestTranslator } from '../../web/locale.js';
import { withDayLabels } from './day-labels.js';

/**
 * Bulk actions on assets: the list's form posts a selection and an action (preview), the preview page
 * confirms it (run), and the result page and its CSV say what happened to each asset.
 */

const Params = z.object({ id: idParam() });
/** `ids[]` as the form names it (the body parser keeps the brackets); at most one page of ids. */
const BulkBody = z.object({
  action: formText(40),
  group_id: formText(100),
  'ids[]': formList(200),
  all: formText(5),
  tab: formText(40),
  q: formText(200),
  due: formText(10),
});
type BulkForm = z.infer<typeof BulkBody>;

const attachment = (filename: string) => `attachment; filename="${filename}"`;

export function bulkAssetRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use('/assets/bulk', withDayLabels);
  const now = () => ctx.clock.now();

  /** The selection from the form: every asset matching the list's filter, or the ticked ones. */
  const selectionOf = (req: Request, actor: Actor, form: BulkForm): BulkSelection =>
    form.all === '1'
      ? { filter: assetFilterFrom(req.body as Record<string, unknown>, todayIn(actor.timeZone, now())) }
      : { ids: form['ids[]'] };

  /** The bulk form on its own, with the selection kept and a message next to the field (422). */
  const renderForm = async (res: Response, actor: Actor, form: BulkForm, errors: Record<string, Msg>, status = 422) =>
    res.renderPage(
      'assets/bulk/form',
      {
        title: msg('Bulk action on assets'),
        form,
        ids: form['ids[]'],
        actions: BULK_ACTIONS.map((a) => ({ value: a, label: BULK_ACTION_LABELS[a] })),
        groups: await bulkGroupChoices(ctx.db, actor),
        errors,
      },
      { status },
    );

  router.post(
    '/assets/bulk',
    ...allow('asset.request', async (req, res, actor) => {
      const form = BulkBody.parse(req.body ?? {});
      const selection = selectionOf(req, actor, form);
      await orRerender(
        async () => {
          const input = { action: form.action, groupId: form.group_id, selection };
          const { id } = await previewBulkAction(ctx.db, actor, input, now());
          // an export changes nothing, so it has nothing to confirm: straight to the file
          res.redirect(303, form.action === 'export' ? `/assets/bulk/${id}.csv` : `/assets/bulk/${id}`);
        },
        (errors, status) => renderForm(res, actor, form, errors, status),
      );
    }),
  );

  // before /assets/bulk/:id, which would take "x.csv" for an id
  router.get(
    '/assets/bulk/:id.csv',
    ...allow('asset.request', async (req, res, actor) => {
      const { filename, body } = await bulkActionCsv(
        ctx.db,
        actor,
        Params.parse(req.params).id,
        requestTranslator(req, res),
      );
      res.set('Content-Disposition', attachment(filename)).type('text/csv; charset=utf-8').send(body);
    }),
  );

  router.get(
    '/assets/bulk/:id',
    ...allow('asset.request', async (req, res, actor) => {
      const bulk = await getBulkAction(ctx.db, actor, Params.parse(req.params).id);
      const tr = requestTranslator(req, res);
      const title = msg('{action}: {selection}', { action: tr.t(bulk.actionLabel), selection: bulk.selection });
      res.renderPage('assets/bulk/show', { title, bulk });
    }),
  );

  router.post(
    '/assets/bulk/:id',
    ...allow('asset.request', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      await runBulkAction(ctx.db, actor, id, now());
      // the result page states what was done and skipped, asset by asset
      res.redirect(303, `/assets/bulk/${id}`);
    }),
  );

  return router;
}
