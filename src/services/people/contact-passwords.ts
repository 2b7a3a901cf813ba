import { randomInt } from 'node:crypto';
import type { Actor } from '../access/index.js';
import { msg, type Msg, type Translator } from '../platform/i18n.js';
import { passwordProblem } from './passwords.js';
import type { ContactForm } from './contacts.js';
import type { MailEnv } from './users.js';

/** The passwords staff give a telecom account's contacts: generated or typed, and the mail that carries them. */

export const PASSWORD_MODES = ['generate', 'set'] as const;
export type PasswordMode = (typeof PASSWORD_MODES)[number];

// no 0/O, 1/l/I: read off a mail or a phone without mistakes; 16 of 55 symbols is about 92 bits
const ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A password to hand out once: four groups of four, which the person replaces at first sign-in. */
export function generatePassword(): string {
  const groups = Array.from({ length: 4 }, () =>
    Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''),
  );
  return groups.join('-');
}

/** The password staff chose, checked; or a generated one. Never stored but as its hash, never audited. */
export function passwordFrom(
  form: Pick<ContactForm, 'passwordMode' | 'password'>,
  email: string,
  fields: Record<string, Msg>,
): { mode: PasswordMode; password: string } | null {
  if (!(PASSWORD_MODES as readonly string[]).includes(form.passwordMode)) {
    fields.passwordMode = msg('Choose whether to generate and email a password, or to type one.');
    return null;
  }
  if (form.passwordMode === 'generate') return { mode: 'generate', password: generatePassword() };
  const problem = form.password
    ? passwordProblem(form.password, email)
    : msg('Type the password, or choose to generate one.');
  if (problem) {
    fields.password = problem;
    return null;
  }
  return { mode: 'set', password: form.password };
}

/** The mail that carries a contact's first or reset password, in the contact's language (`tr`). */
export function passwordMail(
  tr: Translator,
  actor: Actor,
  contact: { id: string; name: string; email: string; customerTitle: string },
  password: string,
  env: MailEnv,
  reset: boolean,
) {
  const values = { staff: actor.name, provider: actor.tenantName, customer: contact.customerTitle };
  return {
    tenantId: actor.tenantId,
    kind: reset ? 'contact_password_reset' : 'contact_password',
    to: contact.email,
    userId: contact.id,
    subject: reset ? tr.t('Your new Portico password') : tr.t('Your Portico account'),
    text: [
      tr.t('Hello {name},', { name: contact.name }),
      '',
      reset
        ? tr.t('{staff} ({provider}) reset the password of your Portico account for {customer}.', values)
        : tr.t('{staff} created a Portico account for you at {customer} ({provider}).', values),
      '',
      tr.t('Sign in at {url} with', { url: `${env.baseUrl}/login` }),
      // the labels padded to one column, as "email:    " and "password: " are
      `  ${tr.t('email:').padEnd(10)}${contact.email}`,
      `  ${tr.t('password:').padEnd(10)}${password}`,
      '',
      tr.t('This password works until you choose your own: Portico asks for a new one as soon as you sign in.'),
      tr.t('If you did not expect this message, tell your provider.'),
    ].join('\n'),
    secrets: [password],
  };
}
