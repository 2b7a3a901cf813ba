import { isStaff, type Actor } from '../access/roles.js';

/** What a login's status and activation can be, and how the pages name them. */
export type UserStatus = 'pending' | 'active' | 'disabled';
export type ActivationMethod = 'email' | 'link';
export const ACTIVATION_METHODS: readonly ActivationMethod[] = ['email', 'link'];
export const STATUS_LABELS: Record<UserStatus, string> = {
  pending: 'Pending activation',
  active: 'Active',
  disabled: 'Disabled',
};

/**
 * A person, from a label stored with what they did ("Name <email>"), as a viewer sees them: by name;
 * staff to a customer by name and provider, so that no login email of the provider's staff reaches a customer.
 */
export function personShownTo(viewer: Actor, label: string, byStaff: boolean): string {
  const name = label.replace(/\s*<[^>]*>$/, '');
  return byStaff && !isStaff(viewer) ? `${name} (${viewer.tenantName})` : name;
}
