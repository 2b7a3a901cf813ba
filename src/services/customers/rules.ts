import { diffSnapshots } from '../platform/audit-rules.js';
import { pageSizeOf } from '../platform/paging.js';
import { cutText } from '../platform/text-rules.js';
import { can, type Actor, type TenantAction } from '../access/roles.js';
import { msg, type Msg } from '../platform/i18n.js';

/** Rules about customers that need no database: list parameters, field checks, labels. */

export const HOME_PAGES = ['summary', 'assets', 'groups', 'tickets', 'sites', 'billing'] as const;
export type HomePage = (typeof HOME_PAGES)[number];
export const HOME_PAGE_LABELS: Record<HomePage, string> = {
  summary: msg('Summary'),
  assets: msg('Assets'),
  groups: msg('Groups'),
  tickets: msg('Tickets'),
  sites: msg('Sites'),
  billing: msg('Billing'),
};

/** The page each choice opens, and the action a person's role needs to open it. */
const HOME_PAGE_ROUTES: Record<Exclude<HomePage, 'summary'>, { path: string; action: TenantAction }> = {
  assets: { path: '/assets', action: 'asset.view' },
  groups: { path: '/groups', action: 'group.view' },
  tickets: { path: '/tickets', action: 'ticket.view' },
  sites: { path: '/sites', action: 'site.view' },
  billing: { path: '/billing', action: 'billing.view' },
};

/**
 * Where `/` sends a customer's person: the page their customer chose, when their role may open it;
 * null for the summary (which `/` itself shows), for a choice their role may not open, or an unknown one.
 */
export function chosenHomePath(actor: Actor, homePage: string): string | null {
  const route = HOME_PAGE_ROUTES[homePage as Exclude<HomePage, 'summary'>];
  return route && can(actor, route.action) ? route.path : null;
}

export const CUSTOMER_STATUSES = ['active', 'suspended'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];
export const CUSTOMER_STATUS_LABELS: Record<CustomerStatus, string> = {
  active: msg('Active'),
  suspended: msg('Suspended'),
};

export const AUDIT_PAGE_SIZE = 50;

export const MESSAGES = {
  accountIdTaken: msg('This account ID is already used by another customer.'),
  confirmTitle: msg("Type the customer's name exactly to delete it."),
  parentMissing: msg('Choose a parent customer from the list.'),
  parentCycle: msg('A customer cannot be placed under itself or one of its inner customers.'),
} as const;

export type ListQuery = { q: string; page: number; size: number };

const firstOf = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);

/** List state from a query string: anything odd falls back to the first page of the default size. */
export function listQueryFrom(raw: Record<string, unknown>): ListQuery {
  const q = firstOf(raw.q);
  const page = Number(firstOf(raw.page));
  return {
    q: typeof q === 'string' ? cutText(q.trim(), 200) : '',
    page: Number.isSafeInteger(page) && page >= 1 ? page : 1,
    size: pageSizeOf(raw.size),
  };
}

/** A search term as a literal inside LIKE: its own % and _ match only themselves. */
export function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** What the form sends: every field as text, as typed. */
export type CustomerForm = {
  title: string;
  account_id: string;
  contact_name: string;
  email: string;
  phone: string;
  address: string;
  parent_id: string;
  home_page: string;
  status: string;
};

/** A customer's own fields as stored; also the audit snapshot (nothing secret in it). */
export type CustomerFields = {
  title: string;
  account_id: string;
  contact_name: string | null;
  email: string | null;
  phone: string | null;
  address: string | null;
  parent_id: string | null;
  home_page: HomePage;
  status: CustomerStatus;
};

export const CUSTOMER_FIELD_NAMES = [
  'title',
  'account_id',
  'contact_name',
  'email',
  'phone',
  'address',
  'parent_id',
  'home_page',
  'status',
] as const;

export function emptyCustomerForm(): CustomerForm {
  return {
    title: '',
    account_id: '',
    contact_name: '',
    email: '',
    phone: '',
    address: '',
    parent_id: '',
    home_page: 'summary',
    status: 'active',
  };
}

export function snapshotOf(row: CustomerFields): CustomerFields {
  return Object.fromEntries(CUSTOMER_FIELD_NAMES.map((k) => [k, row[k] ?? null])) as CustomerFields;
}

const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,32}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ().-]{3,40}$/;

/**
 * Checks what needs no database (lengths, formats, choices) and returns the fields as they will be
 * stored: trimmed, empty optional text as null. Uniqueness and the parent are the service's part.
 */
export function checkCustomerForm(form: Partial<CustomerForm>): {
  fields: CustomerFields;
  errors: Record<string, Msg>;
} {
  const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const optional = (v: unknown) => text(v) || null;
  const errors: Record<string, Msg> = {};

  const title = text(form.title);
  if (!title) errors.title = msg('Enter the customer’s title.');
  else if ([...title].length > 200) errors.title = msg('Keep the title to 200 characters or fewer.');

  const accountId = text(form.account_id);
  if (!accountId) errors.account_id = msg('Enter an account ID.');
  else if (!ACCOUNT_ID.test(accountId))
    errors.account_id = msg('Use 1 to 32 letters, digits, hyphens (-) or underscores (_).');

  const contactName = optional(form.contact_name);
  if (contactName && [...contactName].length > 200)
    errors.contact_name = msg('Keep the contact name to 200 characters or fewer.');

  const email = optional(form.email);
  if (email && (email.length > 254 || !EMAIL.test(email)))
    errors.email = msg('Enter an email address like name@example.com.');

  const phone = optional(form.phone);
  if (phone && !PHONE.test(phone)) errors.phone = msg('Enter a phone number of up to 40 digits, spaces, +, -, ( or ).');

  const address = optional(form.address);
  if (address && [...address].length > 500) errors.address = msg('Keep the address to 500 characters or fewer.');

  const parentId = optional(form.parent_id);
  if (parentId && !isUuid(parentId)) errors.parent_id = MESSAGES.parentMissing;

  const homePage = text(form.home_page) || 'summary';
  if (!(HOME_PAGES as readonly string[]).includes(homePage))
    errors.home_page = msg('Choose one of the home pages in the list.');

  const status = text(form.status) || 'active';
  if (!(CUSTOMER_STATUSES as readonly string[]).includes(status)) errors.status = msg('Choose Active or Suspended.');

  return {
    fields: {
      title,
      account_id: accountId,
      contact_name: contactName,
      email,
      phone,
      address,
      parent_id: parentId,
      home_page: homePage as HomePage,
      status: status as CustomerStatus,
    },
    errors,
  };
}

/** Deleting needs the customer's title typed exactly; only surrounding spaces are forgiven. */
export function confirmsTitle(typed: unknown, title: string): boolean {
  return typeof typed === 'string' && typed.trim() === title;
}

export type Difference = Record<string, { before: unknown; after: unknown }>;

/** The field-level difference of two audit snapshots, as { field: { before, after } }. */
export function differenceOf(before: unknown, after: unknown): Difference {
  return Object.fromEntries(diffSnapshots(before, after).map((d) => [d.field, { before: d.before, after: d.after }]));
}
