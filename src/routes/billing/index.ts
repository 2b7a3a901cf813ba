import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { ConflictError, ValidationError } from '../../errors.js';
import { allow, NEW_PASSWORD_PATH, requireActor } from '../../web/auth.js';
import { customerBillingAccount, listOwnInvoices } from '../../services/billing/index.js';
import { CUSTOMER_STATUS_LABELS } from '../../services/customers/index.js';
import { MIN_PASSWORD_LENGTH, replaceStaffSetPassword } from '../../services/people/index.js';
import { can, landingPath } from '../../services/access/index.js';
import { formText } from '../../web/forms.js';
import { moneyHelpers } from '../../web/locale.js';
import { BILLING_SECTIONS } from '../../web/billing-format.js';
import { renewSessionId } from '../../web/session.js';

const LATEST_INVOICES = 5;
const CustomerQuery = z.object({ customer: formText().transform((v) => v.slice(0, 100)) });
const NewPasswordBody = z.object({ password: formText(), passwordConfirm: formText() });
const RULES = `At least ${MIN_PASSWORD_LENGTH} characters; not a common password and not made from your email address.`;

/** Telecom accounts: the customer's /billing, the staff Billing tab, the first password of a contact, verification of email and mobile. */
export function billingRoutes(ctx: AppContext): Router {
  const router = Router();

  router.get('/billing', ...allow('billing.view'), async (req, res) => {
    const { customer } = CustomerQuery.parse(req.query);
    const account = await customerBillingAccount(ctx.db, req.actor!, customer || null);
    // the newest issued invoices of the person's own account (inner customers' accounts show theirs on their own billing)
    const own = account.customer.id === req.actor!.customerId && can(req.actor, 'invoice.own');
    const latestInvoices = own ? (await listOwnInvoices(ctx.db, req.actor!)).invoices.slice(0, LATEST_INVOICES) : null;
    res.renderPage('billing/index', {
      title: 'Billing',
      ...moneyHelpers(req),
      ...account,
      latestInvoices,
      sections: BILLING_SECTIONS,
      current: 'account',
      statusLabels: CUSTOMER_STATUS_LABELS,
    });
  });

  // ---- a password staff generated or typed: the person chooses their own before anything else ----
  router.get(NEW_PASSWORD_PATH, requireActor, (req, res) => {
    if (!req.actor!.mustChangePassword) return res.redirect(303, landingPath(req.actor!));
    res.set('Cache-Control', 'no-store');
    res.renderPage('account/password/new', { title: 'Set a new password', rules: RULES, errors: {} });
  });

  router.post(NEW_PASSWORD_PATH, requireActor, async (req, res) => {
    const form = NewPasswordBody.parse(req.body ?? {});
    try {
      await replaceStaffSetPassword(ctx.db, req.actor!, req.sessionID, form, ctx.clock.now());
    } catch (err) {
      if (err instanceof ConflictError) return res.redirect(303, landingPath(req.actor!));
      if (!(err instanceof ValidationError)) throw err;
      return res.renderPage(
        'account/password/new',
        { title: 'Set a new password', rules: RULES, errors: err.fields },
        { status: 422 },
      );
    }
    req.log.info(
      { event: 'password_changed', userId: req.actor!.userId, reason: 'staff_set' },
      'password set by staff replaced',
    );
    await renewSessionId(req, ctx.clock.now());
    res.flash('success', 'Your new password is set. Welcome to Portico.');
    res.redirect(303, landingPath(req.actor!));
  });

  return router;
}
