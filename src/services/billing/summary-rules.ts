import { PRODUCT_LABELS, PRODUCTS, type Product } from './usage-rules.js';
import { msg, type Msg } from '../platform/i18n.js';
import { addDays, addMonths, daysBetween, lastDayOfMonth, type Day } from '../assets/subscription-rules.js';

/**
 * The rules of call summaries that need no database: which view and range a query string asks for,
 * the periods a summary row stands for, and the ratios (ASR, ACD). Summaries are in UTC by definition.
 */

export const SUMMARY_VIEWS = ['live', 'daily', 'monthly'] as const;
export type SummaryView = (typeof SUMMARY_VIEWS)[number];
export const SUMMARY_VIEW_LABELS: Record<SummaryView, string> = {
  live: msg('Live'),
  daily: msg('Daily'),
  monthly: msg('Monthly'),
};
/** Rows of Daily and Monthly stand for a period that can be invoiced */
export type Granularity = Exclude<SummaryView, 'live'>;

export const SUMMARY_PRODUCTS = ['all', ...PRODUCTS] as const;
export type SummaryProduct = (typeof SUMMARY_PRODUCTS)[number];
export const SUMMARY_PRODUCT_LABELS: Record<SummaryProduct, string> = {
  all: msg('All products'),
  ...PRODUCT_LABELS,
};
/** the products a summary row of this filter covers */
export const productsOf = (p: SummaryProduct): Product[] => (p === 'all' ? [...PRODUCTS] : [p]);

/** Longest ranges shown at once: a year of days, three years of months. */
export const MAX_DAYS = 366;
export const MAX_MONTHS = 36;
const DEFAULT_DAYS = 31;
const DEFAULT_MONTHS = 12;

export type SummaryQuery = {
  view: SummaryView;
  product: SummaryProduct;
  /** Daily: days; Monthly: the first days of months; Live: today */
  from: Day;
  to: Day;
  /** what was wrong with the range asked for, said above the table; null when it was fine */
  notice: Msg | null;
};

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MONTH = /^\d{4}-\d{2}$/;
const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);

export const monthOf = (day: Day): Day => `${day.slice(0, 7)}-01`;

function validDay(value: unknown): Day | null {
  if (typeof value !== 'string' || !DAY.test(value)) return null;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value ? value : null;
}

/** A month as YYYY-MM (the month inputs' format) or any day in it, as the month's first day. */
function validMonth(value: unknown): Day | null {
  if (typeof value === 'string' && MONTH.test(value)) return validDay(`${value}-01`);
  const day = validDay(value);
  return day ? monthOf(day) : null;
}

/** The summary a query string asks for; anything odd falls back to the defaults, and says so. */
export function summaryQueryFrom(raw: Record<string, unknown>, today: Day): SummaryQuery {
  const view = (SUMMARY_VIEWS as readonly unknown[]).includes(first(raw.view))
    ? (first(raw.view) as SummaryView)
    : 'daily';
  const product = (SUMMARY_PRODUCTS as readonly unknown[]).includes(first(raw.product))
    ? (first(raw.product) as SummaryProduct)
    : 'all';
  if (view === 'live') return { view, product, from: today, to: today, notice: null };
  const asked = { from: first(raw.from), to: first(raw.to) };
  if (view === 'daily') {
    let to = validDay(asked.to) ?? today;
    let from = validDay(asked.from) ?? addDays(to, -(DEFAULT_DAYS - 1));
    const invalid = (asked.from && !validDay(asked.from)) || (asked.to && !validDay(asked.to));
    if (from > to) [from, to] = [to, from];
    let notice: Msg | null = invalid ? msg('A date was not a calendar day; the default range is shown instead.') : null;
    if (daysBetween(from, to) + 1 > MAX_DAYS) {
      from = addDays(to, -(MAX_DAYS - 1));
      notice = invalid
        ? msg(
            'A date was not a calendar day; the default range is shown instead. At most {max} days are shown at once: the range starts on {from}.',
            { max: String(MAX_DAYS), from },
          )
        : msg('At most {max} days are shown at once: the range starts on {from}.', { max: String(MAX_DAYS), from });
    }
    return { view, product, from, to, notice };
  }
  let to = validMonth(asked.to) ?? monthOf(today);
  let from = validMonth(asked.from) ?? addMonths(to, -(DEFAULT_MONTHS - 1));
  const invalid = (asked.from && !validMonth(asked.from)) || (asked.to && !validMonth(asked.to));
  if (from > to) [from, to] = [to, from];
  let notice: Msg | null = invalid ? msg('A month was not valid; the default range is shown instead.') : null;
  if (monthsBetween(from, to) + 1 > MAX_MONTHS) {
    from = addMonths(to, -(MAX_MONTHS - 1));
    const month = from.slice(0, 7);
    notice = invalid
      ? msg(
          'A month was not valid; the default range is shown instead. At most {max} months are shown at once: the range starts in {month}.',
          { max: String(MAX_MONTHS), month },
        )
      : msg('At most {max} months are shown at once: the range starts in {month}.', { max: String(MAX_MONTHS), month });
  }
  return { view, product, from, to, notice };
}

function monthsBetween(from: Day, to: Day): number {
  return (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7));
}

/** The address of a summary: only what differs from the defaults, in a fixed order. */
export function summaryHref(
  base: string,
  q: Pick<SummaryQuery, 'view' | 'product'> & { from?: Day; to?: Day },
  suffix = '',
): string {
  const p = new URLSearchParams();
  if (q.view !== 'daily') p.set('view', q.view);
  if (q.product !== 'all') p.set('product', q.product);
  if (q.view === 'daily' && q.from && q.to) {
    p.set('from', q.from);
    p.set('to', q.to);
  }
  if (q.view === 'monthly' && q.from && q.to) {
    p.set('from', q.from.slice(0, 7));
    p.set('to', q.to.slice(0, 7));
  }
  return `${base}${suffix}${p.size ? `?${p.toString()}` : ''}`;
}

/** The first and last day of a summary row's period. */
export function periodDays(granularity: Granularity, start: Day): { start: Day; end: Day } {
  return granularity === 'daily' ? { start, end: start } : { start: monthOf(start), end: lastDayOfMonth(start) };
}

/** Every day from start to end, inclusive. */
export function daysOf(start: Day, end: Day): Day[] {
  const out: Day[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}

/** A ticked row's period from a form (a day, or a month as YYYY-MM), or null when it is not one. */
export function periodFrom(granularity: Granularity, value: string): Day | null {
  return granularity === 'daily' ? validDay(value) : validMonth(value);
}

/** A period can be invoiced once it is over: its figures may still grow until then. */
export function periodEnded(granularity: Granularity, start: Day, today: Day): boolean {
  return periodDays(granularity, start).end < today;
}

/** Answer-seizure ratio: connected of attempts, in per cent; null with no attempts. */
export function asr(connected: number, attempts: number): number | null {
  return attempts > 0 ? (connected / attempts) * 100 : null;
}

/** Average call duration in seconds over connected calls; null with none. */
export function acd(billedSeconds: number, connected: number): number | null {
  return connected > 0 ? billedSeconds / connected : null;
}

/** Seconds as m:ss (or h:mm:ss), as a telephone bill shows a duration. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** The label of a row's period: "2026-11-03", "November 2026", "14:00–15:00". */
export function periodLabel(view: SummaryView, start: Day | string): string {
  if (view === 'monthly')
    return new Date(`${start.slice(0, 7)}-01T00:00:00Z`).toLocaleDateString('en-GB', {
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    });
  if (view === 'daily') return start.slice(0, 10);
  const hour = Number(start);
  return `${String(hour).padStart(2, '0')}:00–${String(hour + 1).padStart(2, '0')}:00`;
}
