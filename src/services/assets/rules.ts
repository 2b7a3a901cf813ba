/**
 * Rules about one asset that need no database: which actions a person may take on it now, why an
 * action is refused, how identifiers look, and the words the pages use for statuses and requests.
 */
import { ConflictError } from '../../errors.js';
import { roleCan, type Role } from '../access/roles.js';
import { english, msg, type Locale, type Msg } from '../platform/i18n.js';
import type { Day } from './subscription-rules.js';

export const ASSET_STATUSES = [
  'inactive',
  'activation_pending',
  'active',
  'deactivation_pending',
  'deactivated',
] as const;
export type AssetStatus = (typeof ASSET_STATUSES)[number];
export const ASSET_STATUS_LABELS: Record<AssetStatus, string> = {
  inactive: msg('Inactive'),
  activation_pending: msg('Activation pending'),
  active: msg('Active'),
  deactivation_pending: msg('Deactivation pending'),
  deactivated: msg('Deactivated'),
};

export const REQUEST_KINDS = [
  'activation',
  'reactivation',
  'deactivation',
  'renewal_confirmation',
  'group_move',
  /** staff registered the device for the customer (applied at once) */
  'registration',
  /** staff changed the device's name or identifier (applied at once; `reason` says what changed) */
  'details_change',
] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export const REQUEST_KIND_LABELS: Record<RequestKind, string> = {
  activation: msg('Activation'),
  reactivation: msg('Reactivation'),
  deactivation: msg('Deactivation'),
  renewal_confirmation: msg('Renewal confirmation'),
  group_move: msg('Group move'),
  registration: msg('Registration'),
  details_change: msg('Details changed'),
};
/** The kinds that wait in the provider's queue (the others apply at once). */
export const QUEUED_KINDS = ['activation', 'reactivation', 'deactivation'] as const satisfies readonly RequestKind[];
export type QueuedKind = (typeof QUEUED_KINDS)[number];

export const REQUEST_STATES = ['pending', 'approved', 'rejected', 'cancelled', 'applied'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];
export const REQUEST_STATE_LABELS: Record<RequestState, string> = {
  pending: msg('Pending'),
  approved: msg('Approved'),
  rejected: msg('Rejected'),
  cancelled: msg('Cancelled'),
  applied: msg('Done'),
};

export const ASSET_ACTIONS = [
  'activate',
  'reactivate',
  'confirm_renewal',
  'request_deactivation',
  'cancel_deactivation',
  'move',
  /** staff: activate at once, without a request (a pending activation is approved by it) */
  'activate_directly',
  /** staff: deactivate at once, without a request (a pending deactivation is applied by it) */
  'deactivate_directly',
  /** staff: change the name and identifier */
  'edit',
] as const;
export type AssetAction = (typeof ASSET_ACTIONS)[number];

/** What availableActions needs to know of an asset. */
export type ActionSubject = {
  status: AssetStatus;
  /** it had a subscription term before (so activating it again is a reactivation) */
  hasPastTerm: boolean;
  renewalUnconfirmed: boolean;
};

/**
 * The actions a role may take on an asset in its current state. Read-only roles get none; staff who
 * manage devices act directly (staffActions). An action whose request is already pending is not
 * offered twice.
 */
export function availableActions(
  asset: ActionSubject,
  role: Role,
  pendingKinds: readonly RequestKind[],
): AssetAction[] {
  if (roleCan(role, 'asset.staff_manage')) return staffActions(asset);
  if (!roleCan(role, 'asset.request')) return [];
  const pending = new Set(pendingKinds);
  const actions: AssetAction[] = [];
  const waitingForActivation = pending.has('activation') || pending.has('reactivation');
  if (asset.status === 'inactive' && !asset.hasPastTerm && !waitingForActivation) actions.push('activate');
  if ((asset.status === 'deactivated' || (asset.status === 'inactive' && asset.hasPastTerm)) && !waitingForActivation)
    actions.push('reactivate');
  // a deactivation pending does not end the automatic renewal's term, so it can still be acknowledged
  if (asset.renewalUnconfirmed && (asset.status === 'active' || asset.status === 'deactivation_pending'))
    actions.push('confirm_renewal');
  if (asset.status === 'active' && !pending.has('deactivation')) actions.push('request_deactivation');
  if (asset.status === 'deactivation_pending' && pending.has('deactivation')) actions.push('cancel_deactivation');
  actions.push('move');
  return actions;
}

/**
 * What staff do to a customer's device directly: activate anything not running (a pending
 * activation included: activating it approves the request), deactivate anything running (a pending
 * deactivation included: it applies now), and move or edit it whatever its state.
 */
function staffActions(asset: ActionSubject): AssetAction[] {
  const actions: AssetAction[] = [];
  if (asset.status === 'inactive' || asset.status === 'deactivated' || asset.status === 'activation_pending')
    actions.push('activate_directly');
  if (asset.status === 'active' || asset.status === 'deactivation_pending') actions.push('deactivate_directly');
  actions.push('move', 'edit');
  return actions;
}

/** The request kind an activation of this asset makes: first activation, or reactivation of one that had a term. */
export function activationKind(asset: Pick<ActionSubject, 'hasPastTerm' | 'status'>): 'activation' | 'reactivation' {
  return asset.status === 'deactivated' || asset.hasPastTerm ? 'reactivation' : 'activation';
}

/** Why an action cannot be taken on the asset as it is now, in English words for the person who tried. */
export function refusalOf(
  action: AssetAction,
  asset: ActionSubject,
  context: { deactivationOnLabel?: string } = {},
): string {
  return english.t(refusalMessage(action, asset, context));
}

/** refusalOf as a catalog message, translated where it is shown. */
export function refusalMessage(
  action: AssetAction,
  asset: ActionSubject,
  context: { deactivationOnLabel?: string } = {},
): Msg {
  const status = { status: asset.status };
  switch (action) {
    case 'activate':
    case 'reactivate':
      if (asset.status === 'activation_pending')
        return msg('An activation of this asset is already waiting for the provider’s approval.');
      if (asset.status === 'deactivation_pending')
        return msg('This asset is still active, with a deactivation pending: cancel the deactivation instead.');
      return msg(
        'This asset cannot be activated: it is {status, select, inactive {inactive} activation_pending {activation pending} active {active} deactivation_pending {deactivation pending} other {deactivated}}.',
        status,
      );
    case 'confirm_renewal':
      return msg('This asset has no automatic renewal waiting for your confirmation.');
    case 'request_deactivation':
      if (asset.status === 'deactivation_pending') {
        return context.deactivationOnLabel
          ? msg('A deactivation of this asset is already pending: it takes effect on {day}.', {
              day: context.deactivationOnLabel,
            })
          : msg('A deactivation of this asset is already pending.');
      }
      return msg(
        'Only an active asset can be deactivated; this one is {status, select, inactive {inactive} activation_pending {activation pending} active {active} deactivation_pending {deactivation pending} other {deactivated}}.',
        status,
      );
    case 'cancel_deactivation':
      return msg('This asset has no pending deactivation to cancel.');
    case 'move':
      return msg('This asset cannot be moved now.');
    case 'activate_directly':
      return msg(
        'This asset is already active ({status, select, inactive {inactive} activation_pending {activation pending} active {active} deactivation_pending {deactivation pending} other {deactivated}}): deactivate it first to start a new term.',
        status,
      );
    case 'deactivate_directly':
      return msg(
        'Only an active asset can be deactivated; this one is {status, select, inactive {inactive} activation_pending {activation pending} active {active} deactivation_pending {deactivation pending} other {deactivated}}.',
        status,
      );
    case 'edit':
      return msg('This asset cannot be changed now.');
  }
}

/** The language a service writes a day in for a message it hands back: the person's own choice, else English. */
export const actorLocale = (actor: { locale?: Locale | null }): Locale => actor.locale ?? 'en';

/** A ConflictError carrying a catalog message, with its values when it has some. */
export function conflictOf(message: Msg): ConflictError {
  return typeof message === 'string'
    ? new ConflictError(message)
    : new ConflictError(message.id).withValues(message.values);
}

/** IMEIs, serial numbers: 4 to 32 letters, digits or hyphens. */
const IDENTIFIER = /^[A-Za-z0-9-]{4,32}$/;
export const IDENTIFIER_MESSAGES = {
  missing: msg('Enter the device’s identifier (IMEI or serial number).'),
  shape: msg('Use 4 to 32 letters, digits or hyphens (-), like an IMEI or a serial number.'),
};

export function identifierProblem(value: string): string | null {
  if (!value) return IDENTIFIER_MESSAGES.missing;
  return IDENTIFIER.test(value) ? null : IDENTIFIER_MESSAGES.shape;
}

export function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && IDENTIFIER.test(value);
}

export const NAME_MAX = 200;

/** A device's identifier and name as typed: the problems of each, by field (empty when both are fine). */
export function deviceFieldProblems(identifier: string, name: string): Record<string, Msg> {
  const errors: Record<string, Msg> = {};
  const identifierError = identifierProblem(identifier);
  if (identifierError) errors.identifier = identifierError;
  if (name.length > NAME_MAX) errors.name = msg('Keep the name to {max} characters or fewer.', { max: NAME_MAX });
  return errors;
}
export const REASON_MAX = 1000;

const DAY_LOCALES: Record<Locale, string> = { en: 'en-GB', de: 'de-DE' };
const dayFormats = new Map<Locale, Intl.DateTimeFormat>();
/** Days already written, per language: a list page writes the same few renewal days over and over. */
const dayLabels = new Map<string, string>();

/**
 * "31 March 2027" ("31. März 2027"): a calendar day is the same day everywhere, so it is formatted in
 * UTC; in English unless a language is given.
 */
export function formatDay(day: Day | null | undefined, locale: Locale = 'en'): string {
  if (!day) return '';
  const key = `${locale}:${day}`;
  const known = dayLabels.get(key);
  if (known !== undefined) return known;
  let f = dayFormats.get(locale);
  if (!f) {
    f = new Intl.DateTimeFormat(DAY_LOCALES[locale], {
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    });
    dayFormats.set(locale, f);
  }
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const label = f.format(new Date(Date.UTC(y, m - 1, d)));
  // bounded: a few years of days in each language
  if (dayLabels.size >= 4000) dayLabels.clear();
  dayLabels.set(key, label);
  return label;
}

/** A group in a select list, indented by its depth among the listed groups (sub-groups under their parent). */
export function groupOptionLabel(name: string, depth: number): string {
  return '\u00a0\u00a0\u00a0'.repeat(depth) + name;
}

/**
 * Depth of each group within a set of groups, by parent links (a group whose parent is not in the set
 * is at the top).
 */
export function groupDepths(groups: readonly { id: string; parent_id: string | null }[]): Map<string, number> {
  const parentOf = new Map(groups.map((g) => [g.id, g.parent_id]));
  const depths = new Map<string, number>();
  const depthOf = (id: string, seen: number): number => {
    const known = depths.get(id);
    if (known !== undefined) return known;
    const parent = parentOf.get(id);
    // the seen counter stops a cycle in bad data
    const d = parent && parentOf.has(parent) && seen < groups.length ? depthOf(parent, seen + 1) + 1 : 0;
    depths.set(id, d);
    return d;
  };
  for (const g of groups) depthOf(g.id, 0);
  return depths;
}
