import { addDays, daysBetween, type Day } from '../assets/subscription-rules.js';
import {
  DIRECTIONS,
  PRODUCTS,
  USAGE_STATUSES,
  type Direction,
  type Product,
  type UsageStatus,
} from '../billing/usage-rules.js';
import { cursorParam, decodeIdCursor, isCursorTime } from '../platform/paging.js';

/**
 * The partner usage log's list state, as the query string carries it (so a filtered log can be
 * bookmarked): a period of whole days in the viewer's time zone, a direction, a status, a keyset
 * cursor and a page size. Pure: parsing, cursors, links and the chart's geometry.
 */
export const USAGE_PAGE_SIZES = [25, 50, 100] as const;
export const DEFAULT_USAGE_PAGE_SIZE = 25;
/** the default period: the last 30 days, today included */
export const DEFAULT_PERIOD_DAYS = 30;
export const MAX_PERIOD_DAYS = 366;

export const DIRECTION_LABELS: Record<Direction, string> = { inbound: 'Inbound', outbound: 'Outbound' };
export const USAGE_STATUS_LABELS: Record<UsageStatus, string> = {
  in_progress: 'In progress',
  answered: 'Answered',
  no_answer: 'No answer',
  busy: 'Busy',
  failed: 'Failed',
  delivered: 'Delivered',
  pending: 'Pending',
  rejected: 'Rejected',
};
/** the statuses each product's records take, for the status filter */
export const PRODUCT_STATUSES: Record<Product, readonly UsageStatus[]> = {
  sms: ['delivered', 'pending', 'failed', 'rejected'],
  messaging: ['delivered', 'pending', 'failed', 'rejected'],
  voice: ['answered', 'no_answer', 'busy', 'failed', 'in_progress'],
  video: ['answered', 'no_answer', 'busy', 'failed', 'in_progress'],
};

export type UsageCursor = { occurredAt: string; id: string };

export type UsageLogFilter = {
  from: Day;
  /** the last day of the period, included */
  to: Day;
  direction: Direction | null;
  status: UsageStatus | null;
  after: UsageCursor | null;
  size: number;
};

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const firstOf = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);
const isDay = (v: unknown): v is Day =>
  typeof v === 'string' &&
  DAY.test(v) &&
  !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) &&
  new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);

export function isProduct(v: unknown): v is Product {
  return (PRODUCTS as readonly unknown[]).includes(v);
}

/** The filter from a query string; anything not understood falls back to the default, but a bad cursor answers 400. */
export function usageFilterFrom(raw: Record<string, unknown>, today: Day): UsageLogFilter {
  let to = isDay(firstOf(raw.to)) ? (firstOf(raw.to) as Day) : today;
  let from = isDay(firstOf(raw.from)) ? (firstOf(raw.from) as Day) : addDays(to, -(DEFAULT_PERIOD_DAYS - 1));
  if (daysBetween(from, to) < 0) [from, to] = [to, from];
  if (daysBetween(from, to) >= MAX_PERIOD_DAYS) from = addDays(to, -(MAX_PERIOD_DAYS - 1));
  const direction = firstOf(raw.direction);
  const status = firstOf(raw.status);
  const size = Number(firstOf(raw.size));
  return {
    from,
    to,
    direction: (DIRECTIONS as readonly unknown[]).includes(direction) ? (direction as Direction) : null,
    status: (USAGE_STATUSES as readonly unknown[]).includes(status) ? (status as UsageStatus) : null,
    after: cursorParam(raw.after, decodeUsageCursor),
    size: (USAGE_PAGE_SIZES as readonly number[]).includes(size) ? size : DEFAULT_USAGE_PAGE_SIZE,
  };
}

/** Opaque to the browser: base64url of the row's time (UTC, to the microsecond) and id. */
export function encodeUsageCursor(c: UsageCursor): string {
  return Buffer.from(`${c.occurredAt}|${c.id}`).toString('base64url');
}

const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|(\d{1,19})$/;

/** A cursor the log wrote, or null: its time must be a real one and its id a bigint, or the SQL would fail. */
export function decodeUsageCursor(value: unknown): UsageCursor | null {
  if (typeof value !== 'string' || !value || value.length > 100) return null;
  const m = CURSOR.exec(Buffer.from(value, 'base64url').toString('utf8'));
  return m && isCursorTime(m[1]!) && decodeIdCursor(m[2]) ? { occurredAt: m[1]!, id: m[2]! } : null;
}

/** The log's URL with its filter (and cursor, when given), leaving defaults out. */
export function usageListHref(
  base: string,
  f: Omit<UsageLogFilter, 'after'>,
  today: Day,
  after?: string | null,
): string {
  const p = new URLSearchParams();
  const defaultTo = f.to === today;
  if (!defaultTo) p.set('to', f.to);
  if (!defaultTo || f.from !== addDays(f.to, -(DEFAULT_PERIOD_DAYS - 1))) p.set('from', f.from);
  if (f.direction) p.set('direction', f.direction);
  if (f.status) p.set('status', f.status);
  if (f.size !== DEFAULT_USAGE_PAGE_SIZE) p.set('size', String(f.size));
  if (after) p.set('after', after);
  return p.size ? `${base}?${p.toString()}` : base;
}

export type DailyUsage = { day: Day; records: number; spendMinor: number };
export type ChartBar = DailyUsage & {
  x: number;
  width: number;
  recordsY: number;
  recordsHeight: number;
  spendY: number;
  spendHeight: number;
};
export type DailyChart = { width: number; height: number; bars: ChartBar[]; maxRecords: number; maxSpendMinor: number };

/**
 * Every day of the period (days without usage too) as two bars, volume and spend, each scaled to
 * its own maximum: the SVG the server draws. Geometry only; the template draws it.
 */
export function dailyChart(
  days: DailyUsage[],
  period: { from: Day; to: Day },
  size = { width: 720, height: 160 },
): DailyChart {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const all: DailyUsage[] = [];
  for (let d = period.from; daysBetween(d, period.to) >= 0; d = addDays(d, 1))
    all.push(byDay.get(d) ?? { day: d, records: 0, spendMinor: 0 });
  const maxRecords = Math.max(0, ...all.map((d) => d.records));
  const maxSpendMinor = Math.max(0, ...all.map((d) => d.spendMinor));
  const slot = size.width / Math.max(1, all.length);
  const width = Math.max(1, slot / 2 - 1);
  const h = (v: number, max: number) => (max > 0 ? Math.round((v / max) * size.height * 100) / 100 : 0);
  const bars = all.map((d, i) => {
    const recordsHeight = h(d.records, maxRecords);
    const spendHeight = h(d.spendMinor, maxSpendMinor);
    return {
      ...d,
      x: Math.round(i * slot * 100) / 100,
      width: Math.round(width * 100) / 100,
      recordsY: size.height - recordsHeight,
      recordsHeight,
      spendY: size.height - spendHeight,
      spendHeight,
    };
  });
  return { ...size, bars, maxRecords, maxSpendMinor };
}
