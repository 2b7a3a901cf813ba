/** What a login's status and activation can be, and how the pages name them. */
export type UserStatus = 'pending' | 'active' | 'disabled';
export type ActivationMethod = 'email' | 'link';
export const ACTIVATION_METHODS: readonly ActivationMethod[] = ['email', 'link'];
export const STATUS_LABELS: Record<UserStatus, string> = {
  pending: 'Pending activation',
  active: 'Active',
  disabled: 'Disabled',
};
