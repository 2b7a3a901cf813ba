import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../../context.js';
import { allow } from '../../../../web/auth.js';
import { idParam } from '../../../../web/forms.js';
import { customerSummary } from '../../../../services/billing/index.js';
import { renderSummaries, sendSummaryCsv } from '../../../billing/summaries.js';

/** Staff: a customer's call summaries, the customer's own page with the column that ticks rows for an invoice. */

const Params = z.object({ id: idParam() });

export function adminSummaryRoutes(ctx: AppContext): Router {
  const router = Router();
  const PATH = '/admin/customers/:id/billing/summaries';

  // the service reads the view, product and period from the query string, as the page's links write them
  router.get(
    PATH,
    ...allow('billing_summary.view', async (req, res, actor) => {
      const summary = await customerSummary(ctx.db, actor, Params.parse(req.params).id, req.query, ctx.clock.now());
      renderSummaries(req, res, actor, summary, { staff: true });
    }),
  );

  router.get(
    `${PATH}.csv`,
    ...allow('billing_summary.view', async (req, res, actor) => {
      const summary = await customerSummary(ctx.db, actor, Params.parse(req.params).id, req.query, ctx.clock.now());
      sendSummaryCsv(res, summary);
    }),
  );

  return router;
}
