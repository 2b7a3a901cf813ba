import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../../context.js';
import { allow } from '../../../../web/auth.js';
import { idParam } from '../../../../web/forms.js';
import { readDb } from '../../../../web/replica.js';
import type { Actor } from '../../../../services/access/index.js';
import { customerSummary } from '../../../../services/billing/index.js';
import { renderSummaries, sendSummaryCsv } from '../../../billing/summaries.js';

/** Staff: a customer's call summaries, the customer's own page with the column that ticks rows for an invoice. */

const Params = z.object({ id: idParam() });

export function adminSummaryRoutes(ctx: AppContext): Router {
  const router = Router();
  const PATH = '/admin/customers/:id/billing/summaries';
  // the service reads the view, product and period from the query string, as the page's links write them
  const summaryOf = (req: Request, actor: Actor) =>
    customerSummary(readDb(ctx, req), actor, Params.parse(req.params).id, req.query, ctx.clock.now());

  router.get(
    PATH,
    ...allow('billing_summary.view', async (req, res, actor) =>
      renderSummaries(req, res, actor, await summaryOf(req, actor), { staff: true }),
    ),
  );

  router.get(
    `${PATH}.csv`,
    ...allow('billing_summary.view', async (req, res, actor) => sendSummaryCsv(res, await summaryOf(req, actor))),
  );

  return router;
}
