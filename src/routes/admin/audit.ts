import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { sendDownloadStream } from '../../web/downloads.js';
import { formText } from '../../web/forms.js';
import { isUuid, listTenantAudit } from '../../services/customers/index.js';
import {
  auditPeriodFrom,
  cursorParam,
  decodeSafeIdCursor,
  listHref,
  msg,
  streamAuditExport,
} from '../../services/platform/index.js';

/**
 * Tenant admins: the tenant's whole audit log, as a page filtered by customer, person, kind and period
 * (keyset by entry id), and hash-chained as JSON Lines for auditors.
 */

// a customer that is not an id filters nothing rather than failing; a bad date or cursor answers 400
const ListQuery = z.object({
  customer: formText(36).transform((v) => (isUuid(v) ? v : '')),
  actor: formText(300).transform((v) => v.trim()),
  kind: formText(60).transform((v) => v.trim()),
  before: z
    .unknown()
    .optional()
    .transform((v) => cursorParam(v, decodeSafeIdCursor)),
});

export function adminAuditRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/admin/audit',
    ...allow('audit.view', async (req, res, actor) => {
      const q = ListQuery.parse(req.query);
      const period = auditPeriodFrom(req.query);
      const page = await listTenantAudit(ctx.db, actor, { ...q, ...period });
      const state = {
        customer: q.customer,
        actor: q.actor,
        kind: q.kind,
        from: period.from ?? '',
        to: period.to ?? '',
      };
      res.renderPage('admin/audit/index', {
        title: msg('Audit log'),
        ...page,
        state,
        olderHref: page.olderBefore ? listHref('/admin/audit', { ...state, before: page.olderBefore }) : null,
        newestHref: q.before ? listHref('/admin/audit', state) : null,
        exportHref: listHref('/admin/audit.jsonl', { from: state.from, to: state.to }),
      });
    }),
  );

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
