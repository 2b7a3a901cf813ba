import { Router } from 'express';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { sendDownloadStream } from '../../web/downloads.js';
import { auditPeriodFrom, streamAuditExport } from '../../services/platform/index.js';

/** Tenant admins: the tenant's whole audit log, hash-chained, as JSON Lines for auditors. */
export function adminAuditRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/admin/audit.jsonl',
    ...allow('audit.view', async (req, res, actor) => {
      const leaving = new AbortController();
      res.on('close', () => leaving.abort());
      const period = auditPeriodFrom(req.query);
      const download = await streamAuditExport(ctx.db, actor, period, { signal: leaving.signal });
      await sendDownloadStream(
        res,
        { ...download, type: 'application/jsonl; charset=utf-8' },
        ctx.config.exportSendTimeoutMs,
      );
    }),
  );

  return router;
}
