import { can, isOperator, isStaff, type Action, type Actor, type Principal } from './roles.js';
import { msg } from '../platform/i18n.js';

/** Where each actor finds their way: the landing page after sign-in, the navigation and a customer's staff tabs. */

/** Where a user goes after signing in when no `next` was asked for. */
export function landingPath(actor: Principal): string {
  if (isOperator(actor)) return '/operator/tenants';
  if (isStaff(actor)) return '/admin/customers';
  if (actor.role === 'partner_viewer') return '/partner/customers';
  if (actor.role === 'site_viewer') return '/sites';
  return '/';
}

export type NavItem = { href: string; label: string };

export function navFor(actor: Principal): NavItem[] {
  const items: [Action, NavItem][] = [
    ['operator.tenants', { href: '/operator/tenants', label: msg('Tenants') }],
    ['operator.jobs', { href: '/operator/jobs', label: msg('Jobs') }],
    ['operator.mail', { href: '/operator/mail', label: msg('Outgoing mail') }],
    ['home.view', { href: '/', label: msg('Home') }],
    ['asset.view', { href: '/assets', label: msg('Assets') }],
    ['group.view', { href: '/groups', label: msg('Groups') }],
    ['ticket.view', { href: '/tickets', label: msg('Tickets') }],
    ['site.view', { href: '/sites', label: msg('Sites') }],
    ['request.review', { href: '/admin/requests', label: msg('Requests') }],
    ['ticket.staff_view', { href: '/admin/tickets', label: msg('Tickets') }],
    ['customer.list', { href: '/admin/customers', label: msg('Customers') }],
    ['site.staff_view', { href: '/admin/sites', label: msg('Sites') }],
    ['users.view', { href: '/users', label: msg('Users') }],
    ['mail.view', { href: '/admin/mail', label: msg('Outgoing mail') }],
    ['jobs.view', { href: '/admin/jobs', label: msg('Jobs') }],
    ['audit.view', { href: '/admin/audit', label: msg('Audit log') }],
    ['api_key.manage', { href: '/admin/api-keys', label: msg('API keys') }],
    ['import.run', { href: '/admin/imports', label: msg('Imports') }],
    ['tenant_settings.manage', { href: '/admin/settings', label: msg('Provider settings') }],
    ['partner.manage', { href: '/admin/partners', label: msg('Partners') }],
    ['partner.customers.view', { href: '/partner/customers', label: msg('Customers') }],
    ['billing.view', { href: '/billing', label: msg('Billing') }],
    ['settings.view', { href: '/settings', label: msg('Settings') }],
    ['help.view', { href: '/help', label: msg('Help') }],
  ];
  const nav = items.filter(([action]) => can(actor, action)).map(([, item]) => item);
  // the operator has no settings page: its own two-factor sign-in is its one account page
  if (isOperator(actor)) nav.push({ href: '/settings/two-factor', label: msg('Two-factor sign-in') });
  return nav;
}

/** The tabs of a customer's staff pages (sub-paths of /admin/customers/:id) this actor may open. */
export function customerTabsFor(actor: Actor, customerId: string): (NavItem & { key: string })[] {
  const base = `/admin/customers/${customerId}`;
  const tabs: [Action, NavItem & { key: string }][] = [
    ['customer.view', { key: 'overview', href: base, label: msg('Overview') }],
    ['customer_user.view', { key: 'users', href: `${base}/users`, label: msg('Users') }],
    ['asset.staff_view', { key: 'assets', href: `${base}/assets`, label: msg('Assets') }],
    ['billing.staff_view', { key: 'billing', href: `${base}/billing`, label: msg('Billing') }],
    ['audit.view', { key: 'audit', href: `${base}/audit`, label: msg('Audit log') }],
    ['customer.pricing', { key: 'products', href: `${base}/products`, label: msg('Products and prices') }],
    ['portal_access.manage', { key: 'portal-access', href: `${base}/portal-access`, label: msg('Portal access') }],
  ];
  return tabs.filter(([action]) => can(actor, action)).map(([, tab]) => tab);
}
