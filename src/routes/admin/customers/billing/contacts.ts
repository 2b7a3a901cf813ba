import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../../context.js';
import { allow } from '../../../../web/auth.js';
import { formText, idParam, orRerender } from '../../../../web/forms.js';
import {
  type Contact,
  createContact,
  customerForUsers,
  getContact,
  NOTES_MAX,
  resetContactPassword,
  updateContact,
} from '../../../../services/people/index.js';
import { CUSTOMER_ROLES, ROLE_LABELS } from '../../../../services/access/index.js';
import { msg, type Msg } from '../../../../services/platform/i18n.js';

/** Staff: a customer's contacts on its Billing tab: people who sign in with a password from staff, and notes. */

const Params = z.object({ id: idParam() });
const ContactParams = z.object({ id: idParam(), userId: idParam() });
const checked = z
  .unknown()
  .optional()
  .transform((v) => v === 'on');
const ContactBody = z.object({
  name: formText(1000),
  email: formText(1000),
  role: formText(40),
  passwordMode: formText(20),
  password: formText(1000),
  mobile: formText(100),
  publicNotes: formText(NOTES_MAX + 100),
  privateNotes: formText(NOTES_MAX + 100),
  emailVerified: checked,
  mobileVerified: checked,
});
const PasswordBody = z.object({ passwordMode: formText(20), password: formText(1000) });

const contactsOf = (customerId: string) => `/admin/customers/${customerId}/billing#contacts`;
const roleOptions = CUSTOMER_ROLES.map((r) => ({ value: r, label: ROLE_LABELS[r] }));
const passwordModes = [
  { value: 'generate', label: msg('Generate a password and email it to them') },
  { value: 'set', label: msg('Type a password to hand over') },
];
const editTitle = (contact: Pick<Contact, 'name'>) => msg('Edit {name}', { name: contact.name });
const resetTitle = (contact: Pick<Contact, 'name'>) => msg('Reset the password of {name}', { name: contact.name });
const addTitle = (customer: { title: string }) => msg('Add a contact to {customer}', { customer: customer.title });

function renderForm(res: Response, data: Record<string, unknown>, status = 200) {
  res.renderPage(
    'admin/customers/billing/contacts/form',
    { roleOptions, passwordModes, notesMax: NOTES_MAX, errors: {}, ...data },
    { status },
  );
}

function renderPassword(res: Response, data: Record<string, unknown>, status = 200) {
  res.renderPage(
    'admin/customers/billing/contacts/password',
    { passwordModes, errors: {}, values: { passwordMode: 'generate' }, ...data },
    { status },
  );
}

/** What staff read after adding a contact: where the password went, and what the person does with it. */
const addedNote = (contact: Pick<Contact, 'name' | 'email'>, mode: string): Msg =>
  mode === 'generate'
    ? msg('Added {name}. A password is on its way to {email}; they choose their own at first sign-in.', {
        name: contact.name,
        email: contact.email,
      })
    : msg('Added {name}. Hand them the password you typed; they choose their own at first sign-in.', {
        name: contact.name,
      });

const resetNote = (contact: Pick<Contact, 'name' | 'email'>, mode: string): Msg =>
  mode === 'generate'
    ? msg(
        'A new password is on its way to {email}. {name} is signed out everywhere and chooses their own at the next sign-in.',
        { name: contact.name, email: contact.email },
      )
    : msg(
        'The password of {name} is the one you typed. They are signed out everywhere and choose their own at the next sign-in.',
        { name: contact.name },
      );

export function adminContactRoutes(ctx: AppContext): Router {
  const router = Router();
  const mailEnv = () => ({ now: ctx.clock.now(), baseUrl: ctx.config.baseUrl });

  router.get(
    '/admin/customers/:id/billing/contacts/new',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const customer = await customerForUsers(ctx.db, actor, Params.parse(req.params).id);
      const values = { passwordMode: 'generate', role: 'company_admin' };
      renderForm(res, { title: addTitle(customer), customer, values });
    }),
  );

  router.post(
    '/admin/customers/:id/billing/contacts',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = ContactBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { contact, mode } = await createContact(ctx.db, actor, id, form, mailEnv());
          res.flash('success', addedNote(contact, mode));
          res.redirect(303, contactsOf(contact.customerId));
        },
        async (errors, status) => {
          const customer = await customerForUsers(ctx.db, actor, id);
          const values = { ...form, password: '' };
          renderForm(res, { title: addTitle(customer), customer, values, errors }, status);
        },
      );
    }),
  );

  router.get(
    '/admin/customers/:id/billing/contacts/:userId/edit',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = ContactParams.parse(req.params);
      const contact = await getContact(ctx.db, actor, id, userId);
      const customer = { id: contact.customerId, title: contact.customerTitle };
      renderForm(res, { title: editTitle(contact), customer, contact, values: contact });
    }),
  );

  router.post(
    '/admin/customers/:id/billing/contacts/:userId',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = ContactParams.parse(req.params);
      const form = ContactBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const contact = await updateContact(ctx.db, actor, id, userId, form, ctx.clock.now());
          res.flash('success', msg('Saved the changes to {name}.', { name: contact.name }));
          res.redirect(303, contactsOf(contact.customerId));
        },
        async (errors, status) => {
          const contact = await getContact(ctx.db, actor, id, userId);
          const customer = { id: contact.customerId, title: contact.customerTitle };
          const values = { ...contact, ...form };
          renderForm(res, { title: editTitle(contact), customer, contact, values, errors }, status);
        },
      );
    }),
  );

  router.get(
    '/admin/customers/:id/billing/contacts/:userId/password',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = ContactParams.parse(req.params);
      const contact = await getContact(ctx.db, actor, id, userId);
      renderPassword(res, { title: resetTitle(contact), contact });
    }),
  );

  router.post(
    '/admin/customers/:id/billing/contacts/:userId/password',
    ...allow('customer_user.manage', async (req, res, actor) => {
      const { id, userId } = ContactParams.parse(req.params);
      const form = PasswordBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { contact, mode } = await resetContactPassword(ctx.db, actor, id, userId, form, mailEnv());
          res.flash('success', resetNote(contact, mode));
          res.redirect(303, contactsOf(contact.customerId));
        },
        async (errors, status) => {
          const contact = await getContact(ctx.db, actor, id, userId);
          const values = { passwordMode: form.passwordMode };
          renderPassword(res, { title: resetTitle(contact), contact, values, errors }, status);
        },
      );
    }),
  );

  return router;
}
