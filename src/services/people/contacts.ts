import type { Db, Trx } from '../../db/index.js';
import { ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { enqueueMail } from '../mail/index.js';
import { msg, type Msg } from '../platform/i18n.js';
import { hashPassword } from './passwords.js';
import { passwordFrom, passwordMail, type PasswordMode } from './contact-passwords.js';
import { translatorForUser } from './mail-language.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { revokeSessionsOfUser } from './sessions.js';
import { addCustomerUserWithPassword } from './new-users.js';
import { findUserInReach, nameProblem, snapshot, type CustomerUser, type MailEnv } from './users.js';

/**
 * Contacts of a telecom account: the customer's users (the same records as the Users tab), with
 * what the billing panel adds: a password staff generate and mail, or type; public notes the
 * customer sees on /billing and private notes only staff ever see; mobile and verified flags.
 * A password staff set must be changed at the next sign-in.
 */

export type Contact = CustomerUser & {
  mobile: string | null;
  emailVerified: boolean;
  mobileVerified: boolean;
  mustChangePassword: boolean;
  publicNotes: string;
  privateNotes: string;
};

export const NOTES_MAX = 2000;

const MOBILE = /^\+?[0-9][0-9 ()-]{5,30}$/;

const CONTACT_COLUMNS = [
  'u.id',
  'u.name',
  'u.email',
  'u.status',
  'u.created_at as createdAt',
  'm.role',
  'm.id as membershipId',
  'm.customer_id as customerId',
  'c.title as customerTitle',
  'u.mobile',
  'u.email_verified as emailVerified',
  'u.mobile_verified as mobileVerified',
  'u.must_change_password as mustChangePassword',
  'n.public_notes as publicNotes',
  'n.private_notes as privateNotes',
];

/** The customer's contacts with their notes and flags, for staff only (private notes included). */
export async function listContacts(trx: Trx, actor: Actor, customerId: string): Promise<Contact[]> {
  return trx('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .join('customers as c', function () {
      this.on('c.tenant_id', 'm.tenant_id').andOn('c.id', 'm.customer_id');
    })
    .leftJoin('contact_notes as n', function () {
      this.on('n.tenant_id', 'm.tenant_id').andOn('n.membership_id', 'm.id');
    })
    .where({ 'm.tenant_id': actor.tenantId, 'm.customer_id': customerId })
    .orderByRaw('lower(u.name), m.id')
    .select<Contact[]>(CONTACT_COLUMNS)
    .then((rows) => rows.map((r) => ({ ...r, publicNotes: r.publicNotes ?? '', privateNotes: r.privateNotes ?? '' })));
}

export async function getContact(db: Db, actor: Actor, customerId: string, userId: string): Promise<Contact> {
  authorize(actor, 'customer_user.manage');
  return asActor(db, actor, (trx) => findContact(trx, actor, customerId, userId));
}

async function findContact(trx: Trx, actor: Actor, customerId: string, userId: string, lock = false): Promise<Contact> {
  const user = await findUserInReach(trx, actor, userId, customerId, lock);
  const extra = await trx('users as u')
    .leftJoin('contact_notes as n', function () {
      this.on('n.tenant_id', trx.raw('?', [actor.tenantId])).andOn(
        'n.membership_id',
        trx.raw('?', [user.membershipId]),
      );
    })
    .where('u.id', user.id)
    .first(
      'u.mobile',
      'u.email_verified as emailVerified',
      'u.mobile_verified as mobileVerified',
      'u.must_change_password as mustChangePassword',
      'n.public_notes as publicNotes',
      'n.private_notes as privateNotes',
    );
  return { ...user, ...extra, publicNotes: extra?.publicNotes ?? '', privateNotes: extra?.privateNotes ?? '' };
}

export type ContactForm = {
  name: string;
  email: string;
  role: string;
  passwordMode: string;
  password: string;
  mobile: string;
  publicNotes: string;
  privateNotes: string;
  emailVerified?: boolean;
  mobileVerified?: boolean;
};

function checkDetails(form: Pick<ContactForm, 'mobile' | 'publicNotes' | 'privateNotes'>, fields: Record<string, Msg>) {
  const mobile = form.mobile.trim();
  if (mobile && !MOBILE.test(mobile)) fields.mobile = msg('Enter a mobile number in digits, like +44 7700 900123.');
  for (const key of ['publicNotes', 'privateNotes'] as const)
    if (form[key].length > NOTES_MAX) fields[key] = msg('Use at most {max} characters.', { max: String(NOTES_MAX) });
  return { mobile: mobile || null, publicNotes: form.publicNotes.trim(), privateNotes: form.privateNotes.trim() };
}

const detailsSnapshot = (c: {
  mobile: string | null;
  emailVerified: boolean;
  mobileVerified: boolean;
  publicNotes: string;
  privateNotes: string;
}) => ({
  mobile: c.mobile,
  emailVerified: c.emailVerified,
  mobileVerified: c.mobileVerified,
  publicNotes: c.publicNotes,
  privateNotes: c.privateNotes,
});

/**
 * Adds a contact who can sign in at once: active, with a generated password mailed to them, or
 * one staff typed to hand over; either way it must be changed at the first sign-in.
 */
export async function createContact(
  db: Db,
  actor: Actor,
  customerId: string,
  form: ContactForm,
  env: MailEnv,
): Promise<{ contact: CustomerUser; mode: PasswordMode }> {
  authorize(actor, 'customer_user.manage');
  const fields: Record<string, Msg> = {};
  const details = checkDetails(form, fields);
  const chosen = passwordFrom(form, form.email.trim(), fields);
  return asActor(db, actor, async (trx) => {
    const passwordHash = chosen && !Object.keys(fields).length ? await hashPassword(chosen.password) : null;
    const contact = await addCustomerUserWithPassword(
      trx,
      actor,
      customerId,
      form,
      { passwordHash, now: env.now },
      fields,
    );
    await trx('users')
      .where({ id: contact.id })
      .update({
        mobile: details.mobile,
        email_verified: !!form.emailVerified,
        mobile_verified: !!form.mobileVerified && !!details.mobile,
      });
    await trx('contact_notes').insert({
      tenant_id: actor.tenantId,
      membership_id: contact.membershipId,
      public_notes: details.publicNotes,
      private_notes: details.privateNotes,
    });
    if (chosen!.mode === 'generate') {
      const tr = await translatorForUser(trx, contact.id);
      await enqueueMail(trx, passwordMail(tr, actor, contact, chosen!.password, env, false));
    }
    await audit(trx, actor, {
      entityType: 'user',
      entityId: contact.id,
      action: 'user.created',
      customerId: contact.customerId,
      after: {
        ...snapshot(contact),
        ...detailsSnapshot({
          ...details,
          emailVerified: !!form.emailVerified,
          mobileVerified: !!form.mobileVerified && !!details.mobile,
        }),
        password: chosen!.mode === 'generate' ? 'generated and emailed' : 'typed by staff',
      },
    });
    return { contact, mode: chosen!.mode };
  });
}

/** Staff change a contact's name, mobile, verified flags and notes. */
export async function updateContact(
  db: Db,
  actor: Actor,
  customerId: string,
  userId: string,
  form: Omit<ContactForm, 'email' | 'role' | 'passwordMode' | 'password'>,
  now: Date,
): Promise<Contact> {
  authorize(actor, 'customer_user.manage');
  return asActor(db, actor, async (trx) => {
    const before = await findContact(trx, actor, customerId, userId, true);
    const fields: Record<string, Msg> = {};
    const name = form.name.trim();
    const nameError = nameProblem(name);
    if (nameError) fields.name = nameError;
    const details = checkDetails(form, fields);
    if (Object.keys(fields).length) throw new ValidationError(fields);
    // a changed number is not verified until someone says so again
    const mobileVerified = !!form.mobileVerified && !!details.mobile;
    const after: Contact = {
      ...before,
      name,
      mobile: details.mobile,
      emailVerified: !!form.emailVerified,
      mobileVerified,
      publicNotes: details.publicNotes,
      privateNotes: details.privateNotes,
    };
    await trx('users').where({ id: before.id }).update({
      name,
      mobile: after.mobile,
      email_verified: after.emailVerified,
      mobile_verified: after.mobileVerified,
      updated_at: now,
    });
    await trx('contact_notes')
      .insert({
        tenant_id: actor.tenantId,
        membership_id: before.membershipId,
        public_notes: after.publicNotes,
        private_notes: after.privateNotes,
        updated_at: now,
      })
      .onConflict(['tenant_id', 'membership_id'])
      .merge();
    await audit(trx, actor, {
      entityType: 'user',
      entityId: before.id,
      action: 'contact.updated',
      customerId: before.customerId,
      before: { name: before.name, ...detailsSnapshot(before) },
      after: { name, ...detailsSnapshot(after) },
    });
    return after;
  });
}

/**
 * Resets a contact's password the same two ways: generated and mailed, or typed by staff. Their
 * sessions end at once, and the new password must be changed at the next sign-in.
 */
export async function resetContactPassword(
  db: Db,
  actor: Actor,
  customerId: string,
  userId: string,
  form: Pick<ContactForm, 'passwordMode' | 'password'>,
  env: MailEnv,
): Promise<{ contact: Contact; mode: PasswordMode }> {
  authorize(actor, 'customer_user.manage');
  return asActor(db, actor, async (trx) => {
    const contact = await findContact(trx, actor, customerId, userId, true);
    const fields: Record<string, Msg> = {};
    const chosen = passwordFrom(form, contact.email, fields);
    if (!chosen) throw new ValidationError(fields);
    // a pending user has not activated yet: a password from staff activates them too
    await trx('users')
      .where({ id: contact.id })
      .update({
        password_hash: await hashPassword(chosen.password),
        must_change_password: true,
        status: contact.status === 'pending' ? 'active' : contact.status,
        updated_at: env.now,
      });
    const sessionsEnded = await revokeSessionsOfUser(trx, contact.id, env.now);
    if (chosen.mode === 'generate') {
      const tr = await translatorForUser(trx, contact.id);
      await enqueueMail(trx, passwordMail(tr, actor, contact, chosen.password, env, true));
    }
    await audit(trx, actor, {
      entityType: 'user',
      entityId: contact.id,
      action: 'user.password_set_by_staff',
      customerId: contact.customerId,
      after: {
        password: chosen.mode === 'generate' ? 'generated and emailed' : 'typed by staff',
        mustChangePassword: true,
        sessionsEnded,
      },
    });
    return { contact, mode: chosen.mode };
  });
}

/** The public notes of the customer's contacts: all a customer page may show of the notes. */
export async function publicNotesOf(
  trx: Trx,
  actor: Actor,
  customerId: string,
): Promise<{ name: string; notes: string }[]> {
  return trx('contact_notes as n')
    .join('memberships as m', function () {
      this.on('m.tenant_id', 'n.tenant_id').andOn('m.id', 'n.membership_id');
    })
    .join('users as u', 'u.id', 'm.user_id')
    .where({ 'n.tenant_id': actor.tenantId, 'm.customer_id': customerId })
    .whereNot('n.public_notes', '')
    .orderByRaw('lower(u.name), m.id')
    .select('u.name', 'n.public_notes as notes');
}
