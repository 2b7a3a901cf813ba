import type { Knex } from 'knex';
import type { Trx } from '../../db/index.js';
import { ForbiddenError } from '../../errors.js';

/**
 * The one place that decides who may do what. Routes call authorize(), templates call can(),
 * services build their lists from the scopes here, and the authorization matrix test reads ROLES.
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
  tenant_admin: 'Tenant admin',
  support_agent: 'Support agent',
  company_admin: 'Company admin',
  group_admin: 'Group admin',
  group_supervisor: 'Group supervisor',
  site_viewer: 'Site viewer',
  partner_viewer: 'Partner viewer',
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
};

const STAFF: Role[] = ['tenant_admin', 'support_agent'];

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
  'audit.view': ['tenant_admin'],
  'mail.view': ['tenant_admin'],
  /** queue a dead message again */
  'mail.retry': ['tenant_admin'],
  /** the deployment's scheduled jobs: their recent runs, and "Run now" */
  'jobs.view': ['tenant_admin'],
  'jobs.run': ['tenant_admin'],
  /** the tenant's API keys for the integration API: create (shown once), list, revoke */
  'api_key.manage': ['tenant_admin'],
  /** company admins: the Users page of their customer and inner customers */
  'users.view': ['company_admin'],
  'users.manage': ['company_admin'],
  /** the customer's asset list and asset pages (scoped: company admins their customers, group roles their groups) */
  'asset.view': ['company_admin', 'group_admin', 'group_supervisor'],
  /** ask for activation, reactivation, deactivation, renewal confirmation, group moves */
  'asset.request': ['company_admin', 'group_admin'],
  /** the Groups page and a group's page (scoped like assets: company admins their customers' groups, group roles their groups and sub-groups) */
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

  // ---- tickets, call data records, help, tenant settings and data imports (issue 7) ----
  /** the customer's tickets (scoped: company admins their customers', group roles those about their groups' assets and their own) */
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
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof RULES;

/** All that a session opened through a login link may do, whatever the user's role. */
const LINK_SESSION_ACTIONS: readonly Action[] = ['site.view'];

export function can(actor: Actor | undefined, action: Action): boolean {
  if (actor?.viaLink && !LINK_SESSION_ACTIONS.includes(action)) return false;
  return !!actor && roleCan(actor.role, action);
}

/** The same table read by role alone, for pure rules that are given a role rather than an actor. */
export function roleCan(role: Role, action: Action): boolean {
  return (RULES[action] as readonly Role[]).includes(role);
}

export function authorize(actor: Actor | undefined, action: Action): asserts actor is Actor {
  if (!can(actor, action)) throw new ForbiddenError();
}

export function isStaff(actor: Actor): boolean {
  return STAFF.includes(actor.role);
}

/** Where a user goes after signing in when no `next` was asked for. */
export function landingPath(actor: Actor): string {
  if (isStaff(actor)) return '/admin/customers';
  if (actor.role === 'partner_viewer') return '/partner/customers';
  if (actor.role === 'site_viewer') return '/sites';
  return '/';
}

export type NavItem = { href: string; label: string };

export function navFor(actor: Actor): NavItem[] {
  const items: [Action, NavItem][] = [
    ['home.view', { href: '/', label: 'Home' }],
    ['asset.view', { href: '/assets', label: 'Assets' }],
    ['group.view', { href: '/groups', label: 'Groups' }],
    ['ticket.view', { href: '/tickets', label: 'Tickets' }],
    ['site.view', { href: '/sites', label: 'Sites' }],
    ['request.review', { href: '/admin/requests', label: 'Requests' }],
    ['ticket.staff_view', { href: '/admin/tickets', label: 'Tickets' }],
    ['customer.list', { href: '/admin/customers', label: 'Customers' }],
    ['site.staff_view', { href: '/admin/sites', label: 'Sites' }],
    ['users.view', { href: '/users', label: 'Users' }],
    ['mail.view', { href: '/admin/mail', label: 'Outgoing mail' }],
    ['jobs.view', { href: '/admin/jobs', label: 'Jobs' }],
    ['api_key.manage', { href: '/admin/api-keys', label: 'API keys' }],
    ['import.run', { href: '/admin/imports', label: 'Imports' }],
    ['tenant_settings.manage', { href: '/admin/settings', label: 'Provider settings' }],
    ['partner.manage', { href: '/admin/partners', label: 'Partners' }],
    ['partner.customers.view', { href: '/partner/customers', label: 'Customers' }],
    ['billing.view', { href: '/billing', label: 'Billing' }],
    ['settings.view', { href: '/settings', label: 'Settings' }],
    ['help.view', { href: '/help', label: 'Help' }],
  ];
  return items.filter(([action]) => can(actor, action)).map(([, item]) => item);
}

/** The tabs of a customer's staff pages (sub-paths of /admin/customers/:id) this actor may open. */
export function customerTabsFor(actor: Actor, customerId: string): (NavItem & { key: string })[] {
  const base = `/admin/customers/${customerId}`;
  const tabs: [Action, NavItem & { key: string }][] = [
    ['customer.view', { key: 'overview', href: base, label: 'Overview' }],
    ['customer_user.manage', { key: 'users', href: `${base}/users`, label: 'Users' }],
    ['asset.staff_view', { key: 'assets', href: `${base}/assets`, label: 'Assets' }],
    ['billing.staff_view', { key: 'billing', href: `${base}/billing`, label: 'Billing' }],
    ['audit.view', { key: 'audit', href: `${base}/audit`, label: 'Audit log' }],
    ['customer.pricing', { key: 'products', href: `${base}/products`, label: 'Products and prices' }],
    ['portal_access.manage', { key: 'portal-access', href: `${base}/portal-access`, label: 'Portal access' }],
  ];
  return tabs.filter(([action]) => can(actor, action)).map(([, tab]) => tab);
}

/**
 * The customers an actor reaches: every customer of the tenant for staff; for a company admin
 * their own customer and, recursively, its inner customers; nothing for anyone else.
 * Returns a query of customer ids, to use as `whereIn('id', customerIdsInReach(trx, actor))`.
 */
export function customerIdsInReach(trx: Trx, actor: Actor): Knex.QueryBuilder {
  if (isStaff(actor)) return trx('customers').where({ tenant_id: actor.tenantId }).select('id');
  if (actor.role !== 'company_admin' || !actor.customerId) return trx('customers').whereRaw('false').select('id');
  return trx
    .withRecursive('reach', (q) => {
      q.select('id')
        .from('customers')
        .where({ tenant_id: actor.tenantId, id: actor.customerId })
        .unionAll((u) =>
          u
            .select('c.id')
            .from('customers as c')
            .join('reach as r', 'c.parent_id', 'r.id')
            .where('c.tenant_id', actor.tenantId),
        );
    })
    .select('id')
    .from('reach');
}

/**
 * The customers a partner viewer reaches: those assigned to their partner, and nothing else (not
 * their inner customers: each is assigned on its own). Returns a query of customer ids.
 */
export function partnerCustomerIds(trx: Trx, actor: Actor): Knex.QueryBuilder {
  if (actor.role !== 'partner_viewer' || !actor.partnerId) return trx('customers').whereRaw('false').select('id');
  return trx('customers').where({ tenant_id: actor.tenantId, partner_id: actor.partnerId }).select('id');
}

/**
 * The groups a group admin or supervisor reaches: those assigned to them and, recursively, their
 * sub-groups. Returns a query of group ids.
 */
export function groupIdsInReach(trx: Trx, actor: Actor): Knex.QueryBuilder {
  return trx
    .withRecursive('reach', (q) => {
      q.select('g.id')
        .from('groups as g')
        .join('membership_groups as mg', function () {
          this.on('mg.tenant_id', 'g.tenant_id').andOn('mg.group_id', 'g.id');
        })
        .where({ 'mg.tenant_id': actor.tenantId, 'mg.membership_id': actor.membershipId })
        .unionAll((u) =>
          u
            .select('c.id')
            .from('groups as c')
            .join('reach as r', 'c.parent_id', 'r.id')
            .where('c.tenant_id', actor.tenantId),
        );
    })
    .select('id')
    .from('reach');
}

/**
 * The groups an actor reaches, as a query on `groups`: a company admin every group of their
 * customers; a group admin or supervisor their groups and sub-groups; anyone else none.
 */
export function scopeGroups(trx: Trx, actor: Actor, alias = 'groups'): Knex.QueryBuilder {
  const q = trx(`groups as ${alias}`).where(`${alias}.tenant_id`, actor.tenantId);
  if (actor.role === 'company_admin')
    return q.whereRaw('??.customer_id = any(array(?))', [alias, customerIdsInReach(trx, actor)]);
  if (actor.role === 'group_admin' || actor.role === 'group_supervisor') {
    return q
      .where(`${alias}.customer_id`, actor.customerId)
      .whereRaw('??.id = any(array(?))', [alias, groupIdsInReach(trx, actor)]);
  }
  return q.whereRaw('false');
}

/**
 * The assets an actor reaches, as a query on `assets` to build lists and lookups from:
 * staff every asset of the tenant; a company admin their customer's and inner customers';
 * a group admin or supervisor those in their groups and sub-groups; anyone else none.
 */
export function scopeAssets(trx: Trx, actor: Actor, alias = 'assets'): Knex.QueryBuilder {
  const q = trx(`assets as ${alias}`).where(`${alias}.tenant_id`, actor.tenantId);
  if (isStaff(actor)) return q;
  // `= any(array(...))`, not `in (...)`: the list then reads one index range per customer, where
  // a semi join would walk the whole tenant's index in order (seconds at a million assets)
  if (actor.role === 'company_admin')
    return q.whereRaw('??.customer_id = any(array(?))', [alias, customerIdsInReach(trx, actor)]);
  if (actor.role === 'group_admin' || actor.role === 'group_supervisor') {
    return q
      .where(`${alias}.customer_id`, actor.customerId)
      .whereRaw('??.group_id = any(array(?))', [alias, groupIdsInReach(trx, actor)]);
  }
  return q.whereRaw('false');
}

/**
 * The tab badges' counters (asset_counts) over the same reach as scopeAssets: the customers in
 * reach, or for group roles the groups in reach; read instead of counting assets per request.
 */
export function scopeAssetCounts(trx: Trx, actor: Actor, alias = 'asset_counts'): Knex.QueryBuilder {
  const q = trx(`asset_counts as ${alias}`).where(`${alias}.tenant_id`, actor.tenantId);
  if (isStaff(actor)) return q;
  if (actor.role === 'company_admin')
    return q.whereRaw('??.customer_id = any(array(?))', [alias, customerIdsInReach(trx, actor)]);
  if (actor.role === 'group_admin' || actor.role === 'group_supervisor') {
    return q
      .where(`${alias}.customer_id`, actor.customerId)
      .whereRaw('??.group_key = any(array(?))', [alias, groupIdsInReach(trx, actor)]);
  }
  return q.whereRaw('false');
}

/**
 * The sites an actor reaches, as a query on `sites`: staff every site of the tenant; a site viewer
 * the sites chosen for their membership that still belong to their customer; anyone else none.
 */
export function scopeSites(trx: Trx, actor: Actor, alias = 'sites'): Knex.QueryBuilder {
  const q = trx(`sites as ${alias}`).where(`${alias}.tenant_id`, actor.tenantId);
  if (isStaff(actor)) return q;
  if (actor.role === 'site_viewer' && actor.customerId) {
    return q
      .where(`${alias}.customer_id`, actor.customerId)
      .whereIn(
        `${alias}.id`,
        trx('membership_sites')
          .where({ tenant_id: actor.tenantId, membership_id: actor.membershipId })
          .select('site_id'),
      );
  }
  return q.whereRaw('false');
}

/**
 * The tickets an actor reaches, as a query on `tickets`: staff every ticket of the tenant; a company
 * admin their customers'; a group admin or supervisor those about their groups' assets and those
 * they opened themselves; anyone else none.
 */
export function scopeTickets(trx: Trx, actor: Actor, alias = 't'): Knex.QueryBuilder {
  const q = trx(`tickets as ${alias}`).where(`${alias}.tenant_id`, actor.tenantId);
  if (isStaff(actor)) return q;
  if (actor.role === 'company_admin')
    return q.whereRaw('??.customer_id = any(array(?))', [alias, customerIdsInReach(trx, actor)]);
  if (actor.role === 'group_admin' || actor.role === 'group_supervisor') {
    return q
      .where(`${alias}.customer_id`, actor.customerId)
      .where((w) =>
        w
          .whereRaw('??.asset_id = any(array(?))', [alias, scopeAssets(trx, actor, 'sa').select('sa.id')])
          .orWhere(`${alias}.opened_by`, actor.userId),
      );
  }
  return q.whereRaw('false');
}
