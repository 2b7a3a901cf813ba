import { addDays, daysBetween, type Day } from '../assets/subscription-rules.js';
import {
  DIRECTIONS,
  PRODUCTS,
  USAGE_STATUSES,
  type Direction,
  type Product,
  type UsageStatus,
} from '../billing/usage-rules.js';
import {
  cursorParam,
  decodeCursor,
  decodeIdCursor,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  isCursorTime,
  listHref,
  pageSizeOf,
} from '../platform/paging.js';
import { msg } from '../platform/i18n.js';

/**
 * The partner usage log's list state, as the query string carries it (so a filtered log can be
 * bookmarked): a period of whole days in the viewer's time zone, a direction, a status, a keyset
 * cursor and a page size. Pure: parsing, cursors, links and the chart's geometry.
 */
/** the default period: the last 30 days, today included */
export const DEFAULT_PERIOD_DAYS = 30;
export const MAX_PERIOD_DAYS = 366;

export const DIRECTION_LABELS: Record<Direction, string> = { inbound: msg('Inbound'), outbound: msg('Outbound') };
export const USAGE_STATUS_LABELS: Record<UsageStatus, string> = {
  in_progress: msg('In progress'),
  answered: msg('Answered'),
  no_answer: msg('No answer'),
  busy: msg('Busy'),
  failed: msg('Failed'),
  delivered: msg('Delivered'),
  pending: msg('Pending'),
  rejected: msg('Rejected'),
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
  return {
    from,
    to,
    direction: (DIRECTIONS as readonly unknown[]).includes(direction) ? (direction as Direction) : null,
    status: (USAGE_STATUSES as readonly unknown[]).includes(status) ? (status as UsageStatus) : null,
    after: cursorParam(raw.after, decodeUsageCursor),
    size: pageSizeOf(raw.size),
  };
}

/** A row's position as the paging module's opaque cursor: its time (UTC, to the microsecond) and id. */
export function encodeUsageCursor(c: UsageCursor): string {
  return encodeCursor([c.occurredAt, c.id]);
}

/** A cursor's values, when they can be a row's position: a real time and a bigint id, or the SQL would fail. */
function readUsageCursor(values: unknown[]): UsageCursor | null {
  const [occurredAt, id] = values;
  if (values.length !== 2 || !isCursorTime(occurredAt)) return null;
  const bigint = decodeIdCursor(id);
  return bigint === null ? null : { occurredAt, id: bigint };
}

/** A cursor from the address bar, or null when it is not one of ours. */
export function decodeUsageCursor(value: unknown): UsageCursor | null {
  return decodeCursor(value, readUsageCursor, 100);
}

/** The log's URL with its filter (and cursor, when given), leaving defaults out. */
export function usageListHref(
  base: string,
  f: Omit<UsageLogFilter, 'after'>,
  today: Day,
  after?: string | null,
): string {
  const defaultTo = f.to === today;
  const defaultFrom = defaultTo && f.from === addDays(f.to, -(DEFAULT_PERIOD_DAYS - 1));
  return listHref(
    base,
    {
      to: defaultTo ? null : f.to,
      from: defaultFrom ? null : f.from,
      direction: f.direction,
      status: f.status,
      size: f.size,
      after,
    },
    { size: DEFAULT_PAGE_SIZE },
  );
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
