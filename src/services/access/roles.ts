import { ForbiddenError } from '../../errors.js';
import { msg, type Locale } from '../platform/i18n.js';

/**
 * The one place that decides who may do what: roles, the action × role table and the questions
 * asked of it. Routes call authorize(), templates call can(), the authorization matrix test reads
 * ROLES. Pure: no database, so pure rules of other domains may import it directly.
 */
export const ROLES = [
  'tenant_admin',
  'support_agent',
  'company_admin',
  'group_admin',
  'group_supervisor',
  'site_viewer',
  'partner_viewer',
] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  tenant_admin: msg('Tenant admin'),
  support_agent: msg('Support agent'),
  company_admin: msg('Company admin'),
  group_admin: msg('Group admin'),
  group_supervisor: msg('Group supervisor'),
  site_viewer: msg('Site viewer'),
  partner_viewer: msg('Partner viewer'),
};

/** Roles a company admin may give to their own people. */
export const CUSTOMER_ROLES = [
  'company_admin',
  'group_admin',
  'group_supervisor',
  'site_viewer',
] as const satisfies readonly Role[];
export type CustomerRole = (typeof CUSTOMER_ROLES)[number];

export type Actor = {
  userId: string;
  email: string;
  name: string;
  timeZone: string;
  /** the language they chose in settings; null: their browser's (services/platform/i18n.ts) */
  locale?: Locale | null;
  membershipId: string;
  tenantId: string;
  tenantName: string;
  role: Role;
  customerId: string | null;
  partnerId: string | null;
  /** what the header shows beside the name: the customer, partner or provider */
  placeName: string;
  /** how many roles the person holds in all; with more than one, the header offers to switch */
  membershipCount?: number;
  /** the session was opened with a login link: it reaches only the site map (LINK_SESSION_ACTIONS) */
  viaLink?: boolean;
  /** signed in with a password staff generated or typed: nothing but "set a new password" until it is changed */
  mustChangePassword?: boolean;
  /**
   * "view as": this actor is the customer user a staff member is viewing as, read only; the staff member's
   * own actor, and when the view ends by itself (ms since the epoch)
   */
  viewedBy?: { staff: Actor; startedAt: number; endsAt: number };
  /**
   * the staff member's own actor, whose view as someone no longer counts (30 minutes passed, the person's
   * sessions or membership ended, the staff member lost the right): the view ends on this request
   */
  viewAsLapsed?: { userId: string; membershipId: string; customerId: string; startedAt: number };
  /** their tenant requires two-factor sign-in of their role and they have none: nothing but setting it up */
  mustSetUpTwoFactor?: boolean;
};

/**
 * The deployment operator: a login that belongs to no tenant, so it has no tenant, membership or
 * customer, and no tenant service takes it (they take an Actor). It reaches the operator pages only.
 */
export type OperatorActor = {
  role: 'operator';
  userId: string;
  email: string;
  name: string;
  timeZone: string;
  locale?: Locale | null;
  /** what the header shows beside the name */
  placeName: string;
  membershipCount?: undefined;
  viaLink?: undefined;
  mustChangePassword?: undefined;
  viewedBy?: undefined;
  viewAsLapsed?: undefined;
  mustSetUpTwoFactor?: undefined;
};

/** Whoever a session acts as: a person in a tenant, or the deployment's operator. */
export type Principal = Actor | OperatorActor;

export function isOperator(who: Principal): who is OperatorActor {
  return who.role === 'operator';
}

/** The provider's own people: they serve every customer of their tenant. */
export const STAFF_ROLES: readonly Role[] = ['tenant_admin', 'support_agent'];
const STAFF: Role[] = [...STAFF_ROLES];

/** Action × roles: the table routes, templates and the authorization matrix test all read. */
const RULES = {
  'home.view': ['company_admin', 'group_admin', 'group_supervisor'],
  'settings.view': [...ROLES],
  /** a person with several roles chooses the one they act in */
  'session.switch': [...ROLES],
  /** staff: the tenant's customers list and pages */
  'customer.list': [...STAFF],
  'customer.view': [...STAFF],
  /** create, edit, delete customers and inner customers */
  'customer.manage': ['tenant_admin'],
  /** create, edit, deactivate, delete customer users; resend or show activation links */
  'customer_user.manage': ['tenant_admin'],
  /** staff: a customer's Users tab and a user's page, read only (support agents start "view as" there) */
  'customer_user.view': [...STAFF],
  /**
   * staff: a read-only session as a customer user ("view as", 30 minutes): GET pages answer as for that
   * person, every other request but ending it and signing out is refused (VIEW_AS_ALLOWED_WRITES)
   */
  'customer_user.view_as': [...STAFF],
  'audit.view': ['tenant_admin'],
  'mail.view': ['tenant_admin'],
  /** queue a dead message again */
  'mail.retry': ['tenant_admin'],
  /** what the scheduled jobs did for the tenant (renewals, deactivations, reminders), read only */
  'jobs.view': ['tenant_admin'],
  /** the tenant's API keys for the integration API: create (shown once), list, revoke */
  'api_key.manage': ['tenant_admin'],
  /** company admins: the Users page of their customer and inner customers */
  'users.view': ['company_admin'],
  'users.manage': ['company_admin'],
  /** the customer's asset list and asset pages (scoped: company admins their customers, group roles their groups) */
  'asset.view': ['company_admin', 'group_admin', 'group_supervisor'],
  /** ask for activation, reactivation, deactivation, renewal confirmation, group moves */
  'asset.request': ['company_admin', 'group_admin'],
  /**
   * the Groups page and a group's page (scoped like assets: company admins their customers' groups,
   * group roles their groups and sub-groups)
   */
  'group.view': ['company_admin', 'group_admin', 'group_supervisor'],
  /** create, rename, move, enable or disable groups; company admins only: group admins act on assets, not on groups */
  'group.manage': ['company_admin'],
  /** choose a group's users: it grants access, which is the company admin's (like the Users page) */
  'group.assign_users': ['company_admin'],
  /** a group's devices map, when the provider has switched the map on for the group's customer */
  'group.map': ['company_admin', 'group_admin', 'group_supervisor'],
  /** staff: a customer's assets, and the queue of pending requests */
  'asset.staff_view': [...STAFF],
  'request.review': [...STAFF],
  /**
   * staff: register a customer's devices, edit their name and identifier, move them, activate and
   * deactivate them directly (no request queue). Tenant admins only, as in the customer-admin
   * reference: a direct change skips the customer's request and the queue's second look, and a
   * registered or activated device is billed, like the imports and billing tenant admins keep.
   * Support agents see the devices and answer the customers' requests in the queue.
   */
  'asset.staff_manage': ['tenant_admin'],

  // ---- tickets, call data records, help, tenant settings and data imports (issue 7) ----
  /**
   * the customer's tickets (scoped: company admins their customers', group roles those about their
   * groups' assets and their own)
   */
  'ticket.view': ['company_admin', 'group_admin', 'group_supervisor'],
  /** open a ticket and write in its thread; read-only roles do neither */
  'ticket.open': ['company_admin', 'group_admin'],
  'ticket.comment': ['company_admin', 'group_admin'],
  /** get the opener's mail about a ticket someone else opened */
  'ticket.follow': ['company_admin'],
  /** staff: every ticket of the tenant, replies and status changes */
  'ticket.staff_view': [...STAFF],
  'ticket.reply': [...STAFF],
  /** an asset's voice and SMS records of the last month, and their CSV (scoped like assets) */
  'cdr.view': ['company_admin', 'group_admin', 'group_supervisor'],
  /** the tenant's help links */
  'help.view': [...ROLES],
  /** the provider's own settings page (help links and what later issues add) */
  'tenant_settings.manage': ['tenant_admin'],
  /** CSV import of locations and usage records: data that feeds billing, so tenant admins only */
  'import.run': ['tenant_admin'],
  // ---- partners (resellers) and the partner view ----
  /** staff: partners, their partner users, and which customers each partner is assigned */
  'partner.manage': ['tenant_admin'],
  /** staff: a customer's enabled products and price lists, and re-pricing its usage records */
  'customer.pricing': ['tenant_admin'],
  /** partner viewers: their assigned customers and those customers' masked usage logs, read only */
  'partner.customers.view': ['partner_viewer'],

  // ---- call summaries and invoices (issue 10, second half) ----
  // staff see a customer's summaries and make, list and move its invoices;
  // a company admin sees their own account's summaries and its invoices once issued
  'billing_summary.view': ['tenant_admin'],
  'invoice.manage': ['tenant_admin'],
  'billing_summary.own': ['company_admin'],
  'invoice.own': ['company_admin'],
  // ---- sites, Live View and login via link ----
  /** the site map and a site's page: a site viewer's own sites, limited by their customer's Live View permissions */
  'site.view': ['site_viewer'],
  /** staff: the tenant's sites, their visits and pictures */
  'site.staff_view': [...STAFF],
  /** create and edit sites and services, attach sites to customers, record visits, upload pictures */
  'site.manage': ['tenant_admin'],
  /** a customer's portal access: on/off and the Live View permissions */
  'portal_access.manage': ['tenant_admin'],
  /** a site viewer's sites, and their login link (enable, refresh, disable) */
  'site_viewer.manage': ['tenant_admin'],
  // ---- telecom accounts (issue 10): balance, ledger, contacts, number blocks ----
  /** staff: a customer's Billing tab; billing is the tenant admin's (support agents have none) */
  'billing.staff_view': ['tenant_admin'],
  /** change the debit limit, record payments and credit notes, assign and release number blocks */
  'billing.manage': ['tenant_admin'],
  /**
   * the customer's /billing: the account is the whole customer's money, so its company admins;
   * group admins and supervisors reach only some groups, and a balance is not a group's
   */
  'billing.view': ['company_admin'],
  /** /usage: the customer's own usage records, numbers in full; company admins, like the bills they pay */
  'usage.view_own': ['company_admin'],
} as const satisfies Record<string, readonly Role[]>;

export type TenantAction = keyof typeof RULES;

/**
 * What the deployment operator does, and nothing else: tenants (list, create with a first admin,
 * disable), the deployment's jobs with "Run now", and its outgoing mail. No tenant role has these,
 * and the operator has none of the tenant actions above.
 */
export const OPERATOR_ACTIONS = ['operator.tenants', 'operator.jobs', 'operator.mail'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

export type Action = TenantAction | OperatorAction;
/** The actor an action is done by: operator actions by the operator, every other by a person in a tenant. */
export type ActorFor<A extends Action> = A extends OperatorAction ? OperatorActor : Actor;

const isOperatorAction = (action: Action): action is OperatorAction =>
  (OPERATOR_ACTIONS as readonly string[]).includes(action);

/**
 * The `portico` command line, run with the server's environment: it holds the keys to the whole
 * database, so the policy has nothing to refuse it. It does what the operator does, and no more.
 */
export const COMMAND_LINE = { commandLine: true } as const;
export type CommandLine = typeof COMMAND_LINE;

/** The operator's actions, done by the signed-in operator or by the command line. */
export function authorizeOperation(by: OperatorActor | CommandLine, action: OperatorAction): void {
  if (!('commandLine' in by)) authorize(by, action);
}

/** All that a session opened through a login link may do, whatever the user's role. */
const LINK_SESSION_ACTIONS: readonly Action[] = ['site.view'];

export function can(actor: Principal | undefined, action: Action): boolean {
  if (!actor) return false;
  if (isOperator(actor) || isOperatorAction(action)) return isOperator(actor) && isOperatorAction(action);
  if (actor.viaLink && !LINK_SESSION_ACTIONS.includes(action)) return false;
  return roleCan(actor.role, action);
}

/** The same table read by role alone, for pure rules that are given a role rather than an actor. */
export function roleCan(role: Role, action: TenantAction): boolean {
  return (RULES[action] as readonly Role[]).includes(role);
}

export function authorize<A extends Action>(actor: Principal | undefined, action: A): asserts actor is ActorFor<A> {
  if (!can(actor, action)) throw new ForbiddenError();
}

/**
 * The only unsafe requests a "view as" session may make: ending the view and signing out. Everything else
 * but GET and HEAD answers 403 whatever the viewed person's role (web/auth.ts, viewAsReadOnly).
 */
export const VIEW_AS_ALLOWED_WRITES: readonly string[] = ['/view-as/end', '/logout'];

/** How long a "view as" session lasts before it ends by itself. */
export const VIEW_AS_MS = 30 * 60 * 1000;

/**
 * Pages of the login rather than of the account viewed, refused to a "view as" session too: the role
 * switcher lists the person's memberships everywhere, other providers' included, which are not the
 * staff member's to see.
 */
// the two-factor page makes a new secret for the login (kept in the session) and shows its state: the
// person's login, not this account, and a page that writes
export const VIEW_AS_HIDDEN_PAGES: readonly string[] = ['/session/membership', '/settings/two-factor'];

/**
 * Whether a request of a "view as" session is refused: anything unsafe but ending the view and signing
 * out, and the pages of the person's login beyond this account.
 */
export function viewAsRefuses(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD') return VIEW_AS_HIDDEN_PAGES.includes(path);
  return !(method === 'POST' && VIEW_AS_ALLOWED_WRITES.includes(path));
}

export function isStaff(actor: Actor): boolean {
  return STAFF.includes(actor.role);
}

/** Anything that holds a role: an actor, or a person as the admin screens list them. */
export type HasRole = { role: Role };

/** The roles whose reach is the groups assigned to them and those groups' sub-groups. */
export const GROUP_ROLES = ['group_admin', 'group_supervisor'] as const satisfies readonly Role[];

/**
 * A company admin sees their whole customer and its inner customers: every group and every asset,
 * so they may also leave a device outside any group.
 */
export function seesWholeCustomer(who: HasRole): boolean {
  return who.role === 'company_admin';
}

/** Group admins and supervisors see only the groups assigned to them, with their sub-groups. */
export function seesAssignedGroups(who: HasRole): boolean {
  return (GROUP_ROLES as readonly Role[]).includes(who.role);
}

/** Site viewers reach the sites assigned to them; they alone are given sites and a login link. */
export function isSiteViewer(who: HasRole): boolean {
  return who.role === 'site_viewer';
}

/** A role a company admin may give to their own people, as a form sent it. */
export function isCustomerRole(role: string): role is CustomerRole {
  return (CUSTOMER_ROLES as readonly string[]).includes(role);
}

/** Whether giving this role would change the person's role (nobody may change their own). */
export function changesRole(who: HasRole, role: Role): boolean {
  return who.role !== role;
}

/**
 * Whom a tenant may require two-factor sign-in of (tenant settings): its staff, and company admins, who
 * hold the keys to customers' devices, money and people. The session's SQL reads these lists.
 */
export const TWO_FACTOR_REQUIRABLE = {
  staff: STAFF_ROLES,
  companyAdmins: ['company_admin'] as readonly Role[],
} as const;

/**
 * Whether a person manages their own two-factor sign-in from this session: anyone signed in with their
 * password (operators too), never a login link's session, which reaches the site map only.
 */
export function authorizeOwnTwoFactor(who: Principal | undefined): asserts who is Principal {
  if (!who || who.viaLink) throw new ForbiddenError();
}
