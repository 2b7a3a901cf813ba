import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../../context.js';
import { ConflictError, ValidationError } from '../../../../errors.js';
import { allow } from '../../../../web/auth.js';
import {
  assignNumberBlock,
  changeDebitLimit,
  getNumberBlock,
  LEDGER_KIND_LABELS,
  MOVEMENT_KINDS,
  recordMovement,
  releaseNumberBlock,
  staffBillingOverview,
  toDecimalString,
} from '../../../../services/billing/index.js';
import {
  createContact,
  customerForUsers,
  getContact,
  NOTES_MAX,
  resetContactPassword,
  updateContact,
} from '../../../../services/people/index.js';
import { CUSTOMER_STATUS_LABELS } from '../../../../services/customers/index.js';
import { customerTabsFor, CUSTOMER_ROLES, ROLE_LABELS } from '../../../../services/access/index.js';
import { formatDateTime } from '../../../../services/platform/index.js';
import { formText } from '../../../../web/forms.js';
import { moneyHelpers } from '../../../../web/locale.js';

const text = (max: number) => formText().transform((v) => v.slice(0, max));
const checked = z
  .unknown()
  .optional()
  .transform((v) => v === 'on');
const MovementBody = z.object({ kind: text(20), amount: text(40), reference: text(200) });
const DebitLimitBody = z.object({ debitLimit: text(40) });
const ContactBody = z.object({
  name: text(1000),
  email: text(1000),
  role: text(40),
  passwordMode: text(20),
  password: text(1000),
  mobile: text(100),
  publicNotes: text(NOTES_MAX + 100),
  privateNotes: text(NOTES_MAX + 100),
  emailVerified: checked,
  mobileVerified: checked,
});
const PasswordBody = z.object({ passwordMode: text(20), password: text(1000) });
const Params = z.object({ id: text(100), userId: text(100), blockId: text(40) });
const params = (req: Request) => Params.parse(req.params);

const BASE = '/admin/customers';
const billingPath = (customerId: string) => `${BASE}/${customerId}/billing`;
const roleOptions = CUSTOMER_ROLES.map((r) => ({ value: r, label: ROLE_LABELS[r] }));
const passwordModes = [
  { value: 'generate', label: 'Generate a password and email it to them' },
  { value: 'set', label: 'Type a password to hand over' },
];
const movementKinds = MOVEMENT_KINDS.map((k) => ({ value: k, label: LEDGER_KIND_LABELS[k]! }));

/** Staff: a customer's Billing tab (account, ledger, number blocks) and its contacts. */
export function adminBillingRoutes(ctx: AppContext): Router {
  const router = Router();
  const mailEnv = () => ({ now: ctx.clock.now(), baseUrl: ctx.config.baseUrl });
  const helpers = (req: Request) => ({
    ...moneyHelpers(req),
    decimal: toDecimalString,
    kindLabels: LEDGER_KIND_LABELS,
    statusLabels: CUSTOMER_STATUS_LABELS,
    roleLabels: ROLE_LABELS,
    formatTime: (d: Date) => formatDateTime(d, req.actor!.timeZone),
  });

  /** The tab, with a form's input and messages when one was refused (422 or 409). */
  async function renderTab(
    req: Request,
    res: Response,
    state: { errors?: Record<string, string>; values?: Record<string, string>; status?: number } = {},
  ) {
    const overview = await staffBillingOverview(ctx.db, req.actor!, params(req).id);
    res.renderPage(
      'admin/customers/billing/index',
      {
        ...helpers(req),
        ...overview,
        title: `Billing · ${overview.customer.title}`,
        tabs: customerTabsFor(req.actor!, overview.customer.id),
        movementKinds,
        errors: state.errors ?? {},
        values: state.values ?? { kind: 'payment' },
      },
      { status: state.status },
    );
  }

  /** A refused form re-renders the tab with its message next to the field. */
  const orTab = (req: Request, res: Response, values: Record<string, string>, change: () => Promise<void>) =>
    change().catch((err: unknown) => {
      if (err instanceof ValidationError) return renderTab(req, res, { errors: err.fields, values, status: 422 });
      if (err instanceof ConflictError)
        return renderTab(req, res, { errors: { blocks: err.message }, values, status: 409 });
      throw err;
    });

  router.get(`${BASE}/:id/billing`, ...allow('billing.staff_view'), (req, res) => renderTab(req, res));

  router.post(`${BASE}/:id/billing/debit-limit`, ...allow('billing.manage'), async (req, res) => {
    const form = DebitLimitBody.parse(req.body ?? {});
    await orTab(req, res, { ...form, kind: 'payment' }, async () => {
      const account = await changeDebitLimit(ctx.db, req.actor!, params(req).id, form.debitLimit);
      res.flash(
        'success',
        `The debit limit of ${account.title} is ${moneyHelpers(req).money(account.debit_limit_minor, account.currency)}.`,
      );
      res.redirect(303, billingPath(account.id));
    });
  });

  router.post(`${BASE}/:id/billing/ledger`, ...allow('billing.manage'), async (req, res) => {
    const form = MovementBody.parse(req.body ?? {});
    await orTab(req, res, form, async () => {
      const { account, amountMinor, kind } = await recordMovement(ctx.db, req.actor!, params(req).id, form);
      const { money } = moneyHelpers(req);
      res.flash(
        'success',
        `${LEDGER_KIND_LABELS[kind]} of ${money(amountMinor, account.currency)} recorded. The balance of ${account.title} is ${money(account.balance_minor, account.currency)}.`,
      );
      res.redirect(303, billingPath(account.id));
    });
  });

  router.post(`${BASE}/:id/billing/number-blocks`, ...allow('billing.manage'), async (req, res) => {
    await orTab(req, res, { kind: 'payment' }, async () => {
      const { block, customer } = await assignNumberBlock(ctx.db, req.actor!, params(req).id);
      res.flash('success', `Numbers ${block.first_number}–${block.last_number} are assigned to ${customer.title}.`);
      res.redirect(303, `${billingPath(customer.id)}#number-blocks`);
    });
  });

  router.get(`${BASE}/:id/billing/number-blocks/:blockId/release`, ...allow('billing.manage'), async (req, res) => {
    const { block, customer } = await getNumberBlock(ctx.db, req.actor!, params(req).id, params(req).blockId);
    res.renderPage('admin/customers/billing/release-block', {
      title: `Release numbers ${block.first_number}–${block.last_number}?`,
      block,
      customer,
    });
  });

  router.post(`${BASE}/:id/billing/number-blocks/:blockId/release`, ...allow('billing.manage'), async (req, res) => {
    const block = await releaseNumberBlock(ctx.db, req.actor!, params(req).id, params(req).blockId, ctx.clock.now());
    res.flash('success', `Numbers ${block.first_number}–${block.last_number} are back in the range.`);
    res.redirect(303, `${billingPath(params(req).id)}#number-blocks`);
  });

  // ---- contacts: the customer's users, with a password from staff and notes ----
  const contactForm = (req: Request, res: Response, data: Record<string, unknown>, status = 200) =>
    res.renderPage(
      'admin/customers/billing/contact-form',
      { ...helpers(req), roleOptions, passwordModes, notesMax: NOTES_MAX, errors: {}, ...data },
      { status },
    );

  router.get(`${BASE}/:id/billing/contacts/new`, ...allow('customer_user.manage'), async (req, res) => {
    const customer = await customerForUsers(ctx.db, req.actor!, params(req).id);
    contactForm(req, res, {
      title: `Add a contact to ${customer.title}`,
      customer,
      values: { passwordMode: 'generate', role: 'company_admin' },
    });
  });

  router.post(`${BASE}/:id/billing/contacts`, ...allow('customer_user.manage'), async (req, res) => {
    const form = ContactBody.parse(req.body ?? {});
    try {
      const { contact, mode } = await createContact(ctx.db, req.actor!, params(req).id, form, mailEnv());
      if (mode === 'generate') ctx.mailPump.kick();
      res.flash(
        'success',
        mode === 'generate'
          ? `Added ${contact.name}. A password is on its way to ${contact.email}; they choose their own at first sign-in.`
          : `Added ${contact.name}. Hand them the password you typed; they choose their own at first sign-in.`,
      );
      res.redirect(303, `${billingPath(contact.customerId)}#contacts`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const customer = await customerForUsers(ctx.db, req.actor!, params(req).id);
      contactForm(
        req,
        res,
        {
          title: `Add a contact to ${customer.title}`,
          customer,
          values: { ...form, password: '' },
          errors: err.fields,
        },
        422,
      );
    }
  });

  router.get(`${BASE}/:id/billing/contacts/:userId/edit`, ...allow('customer_user.manage'), async (req, res) => {
    const contact = await getContact(ctx.db, req.actor!, params(req).id, params(req).userId);
    contactForm(req, res, {
      title: `Edit ${contact.name}`,
      customer: { id: contact.customerId, title: contact.customerTitle },
      contact,
      values: contact,
    });
  });

  router.post(`${BASE}/:id/billing/contacts/:userId`, ...allow('customer_user.manage'), async (req, res) => {
    const form = ContactBody.parse(req.body ?? {});
    try {
      const contact = await updateContact(
        ctx.db,
        req.actor!,
        params(req).id,
        params(req).userId,
        form,
        ctx.clock.now(),
      );
      res.flash('success', `Saved the changes to ${contact.name}.`);
      res.redirect(303, `${billingPath(contact.customerId)}#contacts`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const contact = await getContact(ctx.db, req.actor!, params(req).id, params(req).userId);
      contactForm(
        req,
        res,
        {
          title: `Edit ${contact.name}`,
          customer: { id: contact.customerId, title: contact.customerTitle },
          contact,
          values: { ...contact, ...form },
          errors: err.fields,
        },
        422,
      );
    }
  });

  const passwordPage = (req: Request, res: Response, data: Record<string, unknown>, status = 200) =>
    res.renderPage(
      'admin/customers/billing/contact-password',
      { passwordModes, errors: {}, values: { passwordMode: 'generate' }, ...data },
      { status },
    );

  router.get(`${BASE}/:id/billing/contacts/:userId/password`, ...allow('customer_user.manage'), async (req, res) => {
    const contact = await getContact(ctx.db, req.actor!, params(req).id, params(req).userId);
    passwordPage(req, res, { title: `Reset the password of ${contact.name}`, contact });
  });

  router.post(`${BASE}/:id/billing/contacts/:userId/password`, ...allow('customer_user.manage'), async (req, res) => {
    const form = PasswordBody.parse(req.body ?? {});
    try {
      const { contact, mode } = await resetContactPassword(
        ctx.db,
        req.actor!,
        params(req).id,
        params(req).userId,
        form,
        mailEnv(),
      );
      if (mode === 'generate') ctx.mailPump.kick();
      res.flash(
        'success',
        mode === 'generate'
          ? `A new password is on its way to ${contact.email}. ${contact.name} is signed out everywhere and chooses their own at the next sign-in.`
          : `The password of ${contact.name} is the one you typed. They are signed out everywhere and choose their own at the next sign-in.`,
      );
      res.redirect(303, `${billingPath(contact.customerId)}#contacts`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const contact = await getContact(ctx.db, req.actor!, params(req).id, params(req).userId);
      passwordPage(
        req,
        res,
        {
          title: `Reset the password of ${contact.name}`,
          contact,
          values: { passwordMode: form.passwordMode },
          errors: err.fields,
        },
        422,
      );
    }
  });

  return router;
}
