import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { listCallRecords, streamCallRecordsCsv } from '../../services/assets/index.js';

/** An asset's call data records of the last month: the paged list and the same rows as CSV. */
export function callRecordRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/assets/:id/call-records', ...allow('cdr.view'), async (req, res) => {
    const after = typeof req.query.after === 'string' ? req.query.after : '';
    const cdrs = await listCallRecords(ctx.db, req.actor!, String(req.params.id), { after, now: ctx.clock.now() });
    res.renderPage(
      'assets/call-records/index',
      { title: `Call data records · ${cdrs.asset.name || cdrs.asset.identifier}`, cdrs },
      { fragment: 'assets/call-records/_table' },
    );
  });

  router.get('/assets/:id/call-records.csv', ...allow('cdr.view'), async (req, res) => {
    const { filename, stream } = await streamCallRecordsCsv(ctx.db, req.actor!, String(req.params.id), ctx.clock.now());
    res.on('close', () => stream.destroy());
    // the file name is built from the identifier with everything but letters, digits, - and _ replaced
    res.set('Content-Disposition', `attachment; filename="${filename}"`).type('text/csv; charset=utf-8');
    await pipeline(stream, res).catch((err: { code?: string }) => {
      if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
    });
  });

  return router;
}
