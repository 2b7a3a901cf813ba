import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { sendCsvStream } from '../../web/downloads.js';
import { idParam } from '../../web/forms.js';
import { readDb } from '../../web/replica.js';
import { listCallRecords, streamCallRecordsCsv } from '../../services/assets/index.js';
import { cursorParam, decodeIdCursor } from '../../services/platform/index.js';
import { msg } from '../../services/platform/i18n.js';
import { moneyHelpers, requestTranslator } from '../../web/locale.js';

/** An asset's call data records of the last month: the paged list and the same rows as CSV. */

const Params = z.object({ id: idParam() });
// the id of the last record of the previous page; one that cannot be a record's answers 400
const Query = z.object({
  after: z
    .unknown()
    .optional()
    .transform((v) => cursorParam(v, decodeIdCursor) ?? ''),
});

export function callRecordRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/assets/:id/call-records',
    ...allow('cdr.view', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const { after } = Query.parse(req.query);
      const cdrs = await listCallRecords(ctx.db, actor, id, { after, now: ctx.clock.now() });
      res.renderPage(
        'assets/call-records/index',
        {
          title: msg('Call data records · {name}', { name: cdrs.asset.name || cdrs.asset.identifier }),
          cdrs,
          money: moneyHelpers(req, res).money,
        },
        { fragment: 'assets/call-records/_table' },
      );
    }),
  );

  router.get(
    '/assets/:id/call-records.csv',
    ...allow('cdr.view', async (req, res, actor) => {
      // the file name is built from the identifier with everything but letters, digits, - and _ replaced
      const download = await streamCallRecordsCsv(
        readDb(ctx, req),
        actor,
        Params.parse(req.params).id,
        ctx.clock.now(),
        requestTranslator(req, res),
      );
      res.on('close', () => download.stream.destroy());
      await sendCsvStream(res, download, ctx.config.exportSendTimeoutMs);
    }),
  );

  return router;
}
