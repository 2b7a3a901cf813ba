import { isStaff, type Actor } from '../access/roles.js';
import { msg } from '../platform/i18n.js';

/** What a login's status and activation can be, and how the pages name them. */
export type UserStatus = 'pending' | 'active' | 'disabled';
export type ActivationMethod = 'email' | 'link';
export const ACTIVATION_METHODS: readonly ActivationMethod[] = ['email', 'link'];
export const STATUS_LABELS: Record<UserStatus, string> = {
  pending: msg('Pending activation'),
  active: msg('Active'),
  disabled: msg('Disabled'),
};

/**
 * A person, from a label stored with what they did ("Name <email>"), as a viewer sees them: by name;
 * staff to a customer by name and provider, so that no login email of the provider's staff reaches a customer.
 */
export function personShownTo(viewer: Actor, label: string, byStaff: boolean): string {
  const name = label.replace(/\s*<[^>]*>$/, '');
  return byStaff && !isStaff(viewer) ? `${name} (${viewer.tenantName})` : name;
}

/**
 * A person as an admin's list shows them, as SQL over `memberships m` joined to `users u`: while an
 * invitation waits, the name and email the admin typed and a pending status, as for a new login, so
 * no list, search or order shows the invited login's own details or that it exists elsewhere.
 */
export const SHOWN_PERSON = {
  name: 'case when m.invited_at is not null then m.invited_name else u.name end',
  email: 'case when m.invited_at is not null then m.invited_email else u.email end',
  status: "case when m.invited_at is not null then 'pending' else u.status end",
  createdAt: 'case when m.invited_at is not null then m.created_at else u.created_at end',
} as const;
