import type { Response } from 'express';
import { type Actor, can, CUSTOMER_ROLES, ROLE_LABELS } from '../services/access/index.js';
import { ACTIVATION_DAYS, STATUS_LABELS } from '../services/people/index.js';
import { DEFAULT_PAGE_SIZE, formatDateTime, listHref, PAGE_SIZES } from '../services/platform/index.js';
import { msg } from '../services/platform/i18n.js';

/** What the screens that add and show people share: a company admin's /users, a customer's Users tab, partners. */

const roleOptions = CUSTOMER_ROLES.map((r) => ({ value: r, label: ROLE_LABELS[r] }));

export const activationOptions = [
  { value: 'email', label: msg('Email them an activation link (recommended)') },
  { value: 'link', label: msg('Display an activation link for me to hand over') },
];

/** What every page of the two user screens shows users with. */
export function userViewHelpers(actor: Actor) {
  return {
    roleLabels: ROLE_LABELS,
    statusLabels: STATUS_LABELS,
    roleOptions,
    activationOptions,
    pageSizes: PAGE_SIZES,
    activationDays: ACTIVATION_DAYS,
    formatTime: (d: Date) => formatDateTime(d, actor.timeZone),
    /** staff screens: tenant admins change users; support agents only read them and may view as them */
    staffManages: can(actor, 'customer_user.manage'),
    staffViewsAs: can(actor, 'customer_user.view_as'),
  };
}

/** A user list's URL with its state in the query string but no page (the pagination adds that). */
export function userListBase(path: string, state: { q: string; size: number; customer?: string }): string {
  return listHref(path, { q: state.q, customer: state.customer, size: state.size }, { size: DEFAULT_PAGE_SIZE });
}

/** The activation link shown on the page that answers the POST that made it (never in a flash, which is stored). */
export const shownActivation = (baseUrl: string, token: string, expiresAt: Date, justCreated: boolean) => ({
  link: `${baseUrl}/activate/${token}`,
  expiresAt,
  justCreated,
});

/** A page that shows a raw activation or login link must stay out of every cache and of the history's reload. */
export const noStore = (res: Response) => res.set('Cache-Control', 'no-store');
