import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../../context.js';
import { allow } from '../../../../web/auth.js';
import {
  assignNumberBlock,
  BILLING_MODEL_LABELS,
  BILLING_MODELS,
  changeDebitLimit,
  getNumberBlock,
  LEDGER_KIND_LABELS,
  MOVEMENT_KINDS,
  recordMovement,
  releaseNumberBlock,
  setBillingModel,
  staffBillingOverview,
  toDecimalString,
} from '../../../../services/billing/index.js';
import { CUSTOMER_STATUS_LABELS } from '../../../../services/customers/index.js';
import { type Actor, customerTabsFor, ROLE_LABELS } from '../../../../services/access/index.js';
import { formText, idParam, orRerender } from '../../../../web/forms.js';
import { moneyHelpers, requestTranslator } from '../../../../web/locale.js';
import { msg, type Msg } from '../../../../services/platform/i18n.js';

/** Staff: a customer's Billing tab: the account, its ledger and debit limit, its number blocks. */

const Params = z.object({ id: idParam() });
const BlockParams = z.object({ id: idParam(), blockId: idParam() });
const MovementBody = z.object({ kind: formText(20), amount: formText(40), reference: formText(200) });
const DebitLimitBody = z.object({ debitLimit: formText(40) });
const BillingModelBody = z.object({ billingModel: formText(20) });

const billingPath = (customerId: string) => `/admin/customers/${customerId}/billing`;
const movementKinds = MOVEMENT_KINDS.map((k) => ({ value: k, label: LEDGER_KIND_LABELS[k]! }));
const billingModels = BILLING_MODELS.map((m) => ({ value: m, label: BILLING_MODEL_LABELS[m] }));

type TabState = { errors?: Record<string, Msg>; values?: Record<string, Msg>; status?: number };

export function adminBillingRoutes(ctx: AppContext): Router {
  const router = Router();

  /** The tab, with a form's input and messages when one was refused (422, or 409 next to the number blocks). */
  async function renderTab(req: Request, res: Response, actor: Actor, customerId: string, state: TabState = {}) {
    const overview = await staffBillingOverview(ctx.db, actor, customerId);
    res.renderPage(
      'admin/customers/billing/index',
      {
        ...moneyHelpers(req, res),
        decimal: toDecimalString,
        kindLabels: LEDGER_KIND_LABELS,
        statusLabels: CUSTOMER_STATUS_LABELS,
        roleLabels: ROLE_LABELS,
        ...overview,
        title: msg('Billing · {customer}', { customer: overview.customer.title }),
        tabs: customerTabsFor(actor, overview.customer.id),
        movementKinds,
        billingModels,
        errors: state.errors ?? {},
        values: state.values ?? { kind: 'payment' },
      },
      { status: state.status },
    );
  }

  /** A change from one of the tab's forms: done, back to the tab; refused, the tab with the form's input kept. */
  const onTab = (
    req: Request,
    res: Response,
    actor: Actor,
    values: Record<string, string>,
    change: () => Promise<void>,
  ) =>
    orRerender(
      change,
      (errors, status) => renderTab(req, res, actor, Params.parse(req.params).id, { errors, values, status }),
      { conflictAt: 'blocks' },
    );

  router.get(
    '/admin/customers/:id/billing',
    ...allow('billing.staff_view', (req, res, actor) => renderTab(req, res, actor, Params.parse(req.params).id)),
  );

  router.post(
    '/admin/customers/:id/billing/debit-limit',
    ...allow('billing.manage', async (req, res, actor) => {
      const form = DebitLimitBody.parse(req.body ?? {});
      await onTab(req, res, actor, { ...form, kind: 'payment' }, async () => {
        const account = await changeDebitLimit(ctx.db, actor, Params.parse(req.params).id, form.debitLimit);
        const limit = moneyHelpers(req, res).money(account.debit_limit_minor, account.currency);
        res.flash('success', msg('The debit limit of {customer} is {limit}.', { customer: account.title, limit }));
        res.redirect(303, billingPath(account.id));
      });
    }),
  );

  router.post(
    '/admin/customers/:id/billing/model',
    ...allow('billing.manage', async (req, res, actor) => {
      const form = BillingModelBody.parse(req.body ?? {});
      await onTab(req, res, actor, { ...form, kind: 'payment' }, async () => {
        const account = await setBillingModel(ctx.db, actor, Params.parse(req.params).id, form.billingModel);
        res.flash(
          'success',
          msg('{customer} is billed {model, select, prepaid {prepaid} postpaid {postpaid} other {{model}}}.', {
            customer: account.title,
            model: account.billing_model,
          }),
        );
        res.redirect(303, billingPath(account.id));
      });
    }),
  );

  router.post(
    '/admin/customers/:id/billing/ledger',
    ...allow('billing.manage', async (req, res, actor) => {
      const form = MovementBody.parse(req.body ?? {});
      await onTab(req, res, actor, form, async () => {
        const { account, amountMinor, kind } = await recordMovement(ctx.db, actor, Params.parse(req.params).id, form);
        const { money } = moneyHelpers(req, res);
        res.flash(
          'success',
          msg('{kind} of {amount} recorded. The balance of {customer} is {balance}.', {
            kind: requestTranslator(req, res).t(LEDGER_KIND_LABELS[kind]),
            amount: money(amountMinor, account.currency),
            customer: account.title,
            balance: money(account.balance_minor, account.currency),
          }),
        );
        res.redirect(303, billingPath(account.id));
      });
    }),
  );

  router.post(
    '/admin/customers/:id/billing/number-blocks',
    ...allow('billing.manage', async (req, res, actor) => {
      await onTab(req, res, actor, { kind: 'payment' }, async () => {
        const { block, customer } = await assignNumberBlock(ctx.db, actor, Params.parse(req.params).id);
        res.flash(
          'success',
          msg('Numbers {range} are assigned to {customer}.', {
            range: `${block.first_number}–${block.last_number}`,
            customer: customer.title,
          }),
        );
        res.redirect(303, `${billingPath(customer.id)}#number-blocks`);
      });
    }),
  );

  router.get(
    '/admin/customers/:id/billing/number-blocks/:blockId/release',
    ...allow('billing.manage', async (req, res, actor) => {
      const { id, blockId } = BlockParams.parse(req.params);
      const { block, customer } = await getNumberBlock(ctx.db, actor, id, blockId);
      res.renderPage('admin/customers/billing/release-block', {
        title: msg('Release numbers {range}?', { range: `${block.first_number}–${block.last_number}` }),
        block,
        customer,
      });
    }),
  );

  router.post(
    '/admin/customers/:id/billing/number-blocks/:blockId/release',
    ...allow('billing.manage', async (req, res, actor) => {
      const { id, blockId } = BlockParams.parse(req.params);
      const block = await releaseNumberBlock(ctx.db, actor, id, blockId, ctx.clock.now());
      res.flash(
        'success',
        msg('Numbers {range} are back in the range.', { range: `${block.first_number}–${block.last_number}` }),
      );
      res.redirect(303, `${billingPath(id)}#number-blocks`);
    }),
  );

  return router;
}
