import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../../context.js';
import { allow } from '../../../../web/auth.js';
import { formText, idParam, orRerender } from '../../../../web/forms.js';
import {
  customerSummary,
  generateInvoice,
  getCustomerInvoice,
  listCustomerInvoices,
  setInvoiceStatus,
} from '../../../../services/billing/index.js';
import type { Actor } from '../../../../services/access/index.js';
import { renderSummaries } from '../../../billing/summaries.js';
import { renderInvoice, renderInvoiceList, sendInvoiceCsv, staffInvoicesPath } from '../../../billing/invoices.js';
import { msg, type Msg } from '../../../../services/platform/i18n.js';

/**
 * Staff: a customer's invoices, the customer's invoice pages with what staff do besides: generate one
 * from ticked summary rows, and move its status (draft, issued, paid, void).
 */

const Params = z.object({ id: idParam() });
const InvoiceParams = z.object({ id: idParam(), invoiceId: idParam() });
// the service reads the summary's choices as the summaries page sends them (a tick is one value or several)
const GenerateBody = z.object({
  granularity: z.unknown().optional(),
  product: z.unknown().optional(),
  periods: z.unknown().optional(),
});
const GenerateQuery = z.object({ from: z.unknown().optional(), to: z.unknown().optional() });
const StatusBody = z.object({ status: z.unknown().optional(), confirm: formText() });

type Refused = { errors: Record<string, Msg>; status: number };

/** The summary rows the person ticked, to tick them again on the re-rendered page. */
const tickedOf = (periods: unknown) =>
  (Array.isArray(periods) ? periods : [periods]).filter((v): v is string => typeof v === 'string');

export function adminInvoiceRoutes(ctx: AppContext): Router {
  const router = Router();
  const PATH = '/admin/customers/:id/billing/invoices';
  const now = () => ctx.clock.now();

  /** The summaries page again as the person left it: the same view and range, their ticks kept, the reason. */
  const summariesAgain = async (req: Request, res: Response, actor: Actor, id: string, refused: Refused) => {
    const body = GenerateBody.parse(req.body ?? {});
    const { from, to } = GenerateQuery.parse(req.query);
    const query = { view: body.granularity, product: body.product, from, to };
    const summary = await customerSummary(ctx.db, actor, id, query, now());
    renderSummaries(req, res, actor, summary, { staff: true, ...refused, ticked: tickedOf(body.periods) });
  };

  // "Generate invoice" on the summaries page; refused input re-renders that page with the ticks kept
  router.post(
    PATH,
    ...allow('invoice.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const body = GenerateBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const invoice = await generateInvoice(ctx.db, actor, id, body, now());
          res.flash(
            'success',
            msg('Invoice {number} created as a draft. Issue it to show it to the customer.', {
              number: invoice.numberLabel,
            }),
          );
          res.redirect(303, `${staffInvoicesPath(invoice.customer_id)}/${invoice.id}`);
        },
        (errors, status) => summariesAgain(req, res, actor, id, { errors, status }),
        { conflictAt: 'periods' },
      );
    }),
  );

  router.get(
    PATH,
    ...allow('invoice.manage', async (req, res, actor) => {
      const list = await listCustomerInvoices(ctx.db, actor, Params.parse(req.params).id);
      renderInvoiceList(req, res, actor, list, true);
    }),
  );

  // the .csv first: `:invoiceId` alone would take "<id>.csv" as an id
  router.get(
    `${PATH}/:invoiceId.csv`,
    ...allow('invoice.manage', async (req, res, actor) => {
      const { id, invoiceId } = InvoiceParams.parse(req.params);
      sendInvoiceCsv(res, await getCustomerInvoice(ctx.db, actor, id, invoiceId));
    }),
  );

  router.get(
    `${PATH}/:invoiceId`,
    ...allow('invoice.manage', async (req, res, actor) => {
      const { id, invoiceId } = InvoiceParams.parse(req.params);
      renderInvoice(req, res, await getCustomerInvoice(ctx.db, actor, id, invoiceId), true);
    }),
  );

  router.post(
    `${PATH}/:invoiceId/status`,
    ...allow('invoice.manage', async (req, res, actor) => {
      const { id, invoiceId } = InvoiceParams.parse(req.params);
      const { status, confirm } = StatusBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const confirmed = confirm === 'yes';
          const invoice = await setInvoiceStatus(ctx.db, actor, id, invoiceId, status, now(), { confirmed });
          res.flash(
            'success',
            msg(
              'Invoice {number} is now {status, select, draft {draft} issued {issued} paid {paid} void {void} other {{status}}}.',
              { number: invoice.numberLabel, status: invoice.status },
            ),
          );
          res.redirect(303, `${staffInvoicesPath(invoice.customer_id)}/${invoice.id}`);
        },
        async (errors, code) => {
          const detail = await getCustomerInvoice(ctx.db, actor, id, invoiceId);
          renderInvoice(req, res, detail, true, { errors, status: code });
        },
        { conflictAt: 'status' },
      );
    }),
  );

  return router;
}
