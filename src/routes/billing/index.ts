import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { customerBillingAccount, listOwnInvoices } from '../../services/billing/index.js';
import { CUSTOMER_STATUS_LABELS } from '../../services/customers/index.js';
import { can } from '../../services/access/index.js';
import { formText } from '../../web/forms.js';
import { moneyHelpers } from '../../web/locale.js';
import { BILLING_SECTIONS } from '../../web/billing-format.js';
import { msg } from '../../services/platform/index.js';

const LATEST_INVOICES = 5;
const CustomerQuery = z.object({ customer: formText().transform((v) => v.slice(0, 100)) });

/**
 * Telecom accounts: the customer's /billing, the staff Billing tab, the first password of a contact,
 * verification of email and mobile.
 */
export function billingRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get(
    '/billing',
    ...allow('billing.view', async (req, res, actor) => {
      const { customer } = CustomerQuery.parse(req.query);
      const account = await customerBillingAccount(ctx.db, actor, customer || null);
      // the newest issued invoices of the person's own account
      // (inner customers' accounts show theirs on their own billing)
      const own = account.customer.id === actor.customerId && can(actor, 'invoice.own');
      const latestInvoices = own ? (await listOwnInvoices(ctx.db, actor)).invoices.slice(0, LATEST_INVOICES) : null;
      res.renderPage('billing/index', {
        title: msg('Billing'),
        ...moneyHelpers(req, res),
        ...account,
        latestInvoices,
        sections: BILLING_SECTIONS,
        current: 'account',
        statusLabels: CUSTOMER_STATUS_LABELS,
      });
    }),
  );

  return router;
}
