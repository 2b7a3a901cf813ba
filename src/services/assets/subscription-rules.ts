/**
 * Subscription rules that need no database: terms, renewal states and when a deactivation takes
 * effect. Calendar days are 'YYYY-MM-DD' strings; "today" is the day in the viewer's time zone.
 */
import { msg } from '../platform/i18n.js';

export const PLANS = ['monthly', 'quarterly', 'yearly'] as const;
export type Plan = (typeof PLANS)[number];
export const PLAN_MONTHS: Record<Plan, number> = { monthly: 1, quarterly: 3, yearly: 12 };
export const PLAN_LABELS: Record<Plan, string> = {
  monthly: msg('Monthly'),
  quarterly: msg('Quarterly'),
  yearly: msg('Yearly'),
};

/** Renewal reminders start this many days before the renewal date. */
export const RENEWAL_WARNING_DAYS = 28;

export type Day = string;

function parse(day: Day): { y: number; m: number; d: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new Error(`not a calendar day: ${day}`);
  return { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
}

function format(y: number, m: number, d: number): Day {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

export function addDays(day: Day, n: number): Day {
  const { y, m, d } = parse(day);
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return format(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/**
 * Months later on the same day of the month, or the month's last day when it has no such day
 * (31 Jan + 1 = 28/29 Feb).
 */
export function addMonths(day: Day, n: number): Day {
  const { y, m, d } = parse(day);
  const total = y * 12 + (m - 1) + n;
  const ny = Math.floor(total / 12);
  const nm = (total % 12) + 1;
  return format(ny, nm, Math.min(d, daysInMonth(ny, nm)));
}

export function daysBetween(from: Day, to: Day): number {
  const a = parse(from);
  const b = parse(to);
  return Math.round((Date.UTC(b.y, b.m - 1, b.d) - Date.UTC(a.y, a.m - 1, a.d)) / 86_400_000);
}

export function lastDayOfMonth(day: Day): Day {
  const { y, m } = parse(day);
  return format(y, m, daysInMonth(y, m));
}

// one formatter per time zone: making one costs far more than using it (a list page asks per row)
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day it is at `now` in a time zone. */
export function todayIn(timeZone: string, now: Date): Day {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** A term that starts on `start` covers whole months and ends the day before the same date comes round. */
export function termFor(plan: Plan, start: Day): { termStart: Day; termEnd: Day; nextRenewalOn: Day | null } {
  const next = addMonths(start, PLAN_MONTHS[plan]);
  return { termStart: start, termEnd: addDays(next, -1), nextRenewalOn: plan === 'monthly' ? null : next };
}

export type StoredTerm = { plan: Plan; status: string; termStart: Day | null; termEnd: Day | null };

/**
 * The term a subscription is in on `today` (a UTC day: the day the renewal job goes by). Yearly and
 * quarterly terms are stored as they run: the renewal job writes each new one. A monthly plan is
 * invoiced by the calendar month, so its term is derived instead of rewritten on every 1st: the
 * stored term is its first one (from the day it was activated, termFor) or the one it was in when it
 * stopped running; while the asset is active and that term is over, the term is the calendar month
 * of today. That is the term the monthly rollover used to write, day for day.
 */
export function currentTerm(sub: StoredTerm, today: Day): { termStart: Day | null; termEnd: Day | null } {
  const stored = { termStart: sub.termStart, termEnd: sub.termEnd };
  if (sub.plan !== 'monthly' || sub.status !== 'active' || !sub.termEnd || sub.termEnd >= today) return stored;
  return { termStart: `${today.slice(0, 8)}01`, termEnd: lastDayOfMonth(today) };
}

export type SubscriptionTerms = {
  plan: Plan;
  termEnd: Day | null;
  nextRenewalOn: Day | null;
  renewalUnconfirmed: boolean;
};

/**
 * When a deactivation asked for today takes effect: monthly plans at the end of the current month;
 * yearly and quarterly at the end of the contracted term. The day is kept even on a weekend:
 * service and billing run every day. A term already over (awaiting its automatic renewal) ends
 * at the end of the term that renewal starts.
 */
export function deactivationDate(sub: SubscriptionTerms, today: Day): Day {
  if (sub.plan === 'monthly' || !sub.termEnd) return lastDayOfMonth(today);
  let end = sub.termEnd;
  while (end < today) end = addDays(addMonths(addDays(end, 1), PLAN_MONTHS[sub.plan]), -1);
  return end;
}

export type RenewalState = 'none' | 'due_soon' | 'scheduled' | 'unconfirmed';

/**
 * The renewal column: nothing for monthly plans (invoiced on the 1st); a warning within 28 days
 * of the renewal; the plain date otherwise; danger while a term that renewed itself awaits the
 * customer's confirmation.
 */
export function renewalState(sub: SubscriptionTerms, today: Day): RenewalState {
  if (sub.plan === 'monthly' || !sub.nextRenewalOn) return 'none';
  if (sub.renewalUnconfirmed) return 'unconfirmed';
  const days = daysBetween(today, sub.nextRenewalOn);
  return days >= 0 && days <= RENEWAL_WARNING_DAYS ? 'due_soon' : 'scheduled';
}

export const RENEWAL_STATE_TEXT: Record<RenewalState, string> = {
  none: msg('Monthly plan, invoiced on the 1st'),
  due_soon: msg('Renews within 4 weeks'),
  scheduled: msg('Renews on this date'),
  unconfirmed: msg('Renewed automatically: please confirm'),
};
