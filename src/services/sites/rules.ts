import { addDays, addMonths, daysBetween, todayIn, type Day } from '../assets/subscription-rules.js';
import { textLength } from '../platform/text-rules.js';
import { msg, type Msg } from '../platform/i18n.js';

/**
 * Site portal rules that need no database: the date range a customer picks (whole days in their
 * time zone), when a site counts as serviced in it, what the Live View permissions are, and when a
 * login link expires.
 */

/** The six Live View switches a provider sets per customer, in the order the staff screen shows them. */
export const LIVE_VIEW_PERMISSIONS = [
  'view_jobs',
  'view_site_pictures',
  'view_vehicle_visits',
  'filter_by_service',
  'view_service_name',
  'view_service_pictures',
] as const;
export type LiveViewPermission = (typeof LIVE_VIEW_PERMISSIONS)[number];
export const LIVE_VIEW_LABELS: Record<LiveViewPermission, { label: string; hint: string }> = {
  view_jobs: {
    label: msg('Can view jobs'),
    hint: msg("A site's page lists the services completed in the chosen dates."),
  },
  view_site_pictures: {
    label: msg('Can view the site pictures gallery'),
    hint: msg("A site's page shows the pictures taken of the site."),
  },
  view_vehicle_visits: {
    label: msg('Can view vehicle site visits'),
    hint: msg('Which vehicle came, and every vehicle visit with its times.'),
  },
  filter_by_service: {
    label: msg('Can filter the geofence highlight by service'),
    hint: msg('The map can show green only for one kind of service.'),
  },
  view_service_name: {
    label: msg('Service details: can view the service name'),
    hint: msg('Each completed service is listed with its name.'),
  },
  view_service_pictures: {
    label: msg('Service details: can view pictures'),
    hint: msg('Each completed service shows the pictures taken during it.'),
  },
};
export type PortalAccess = { enabled: boolean } & Record<LiveViewPermission, boolean>;
export const NO_PORTAL_ACCESS: PortalAccess = {
  enabled: false,
  ...(Object.fromEntries(LIVE_VIEW_PERMISSIONS.map((p) => [p, false])) as Record<LiveViewPermission, boolean>),
};

export const DEFAULT_RANGE_DAYS = 7;
export const MAX_RANGE_DAYS = 366;

export type DateRange = { from: Day; to: Day };
/**
 * The same range as instants: [start, end), start at midnight of `from` and end at midnight after `to`,
 * in the zone.
 */
export type Interval = { start: Date; end: Date };

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const isDay = (v: unknown): v is Day =>
  typeof v === 'string' &&
  DAY.test(v) &&
  !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) &&
  new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);

/** The last 7 days, today included, in the viewer's zone. */
export function defaultRange(timeZone: string, now: Date): DateRange {
  const to = todayIn(timeZone, now);
  return { from: addDays(to, -(DEFAULT_RANGE_DAYS - 1)), to };
}

/**
 * The range asked for in the query string, or what is wrong with it. Missing ends fall back to the
 * default range's; a range backwards or longer than a year is refused with a message for the form.
 */
export function rangeFrom(
  query: { from?: unknown; to?: unknown },
  timeZone: string,
  now: Date,
): { range: DateRange; error?: Msg } {
  const fallback = defaultRange(timeZone, now);
  const given = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
  const from = given(query.from);
  const to = given(query.to);
  if ((from && !isDay(from)) || (to && !isDay(to)))
    return { range: fallback, error: msg('Enter dates as YYYY-MM-DD.') };
  const range = {
    from: from ?? (to ? addDays(to, -(DEFAULT_RANGE_DAYS - 1)) : fallback.from),
    to: to ?? (from ? addDays(from, DEFAULT_RANGE_DAYS - 1) : fallback.to),
  };
  if (daysBetween(range.from, range.to) < 0)
    return { range: fallback, error: msg('The start date is after the end date.') };
  if (daysBetween(range.from, range.to) >= MAX_RANGE_DAYS)
    return { range: fallback, error: msg('Choose at most {max} days.', { max: String(MAX_RANGE_DAYS) }) };
  return { range };
}

/** How far the zone's clock is ahead of UTC at `at`, in milliseconds. */
function zoneOffsetMs(timeZone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(at));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  return (
    Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) -
    Math.floor(at / 1000) * 1000
  );
}

/** The instant a calendar day starts in a time zone (midnight, or the first moment after a gap). */
export function startOfDay(day: Day, timeZone: string): Date {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  let t = wall - zoneOffsetMs(timeZone, wall);
  t = wall - zoneOffsetMs(timeZone, t);
  return new Date(t);
}

export function intervalOf(range: DateRange, timeZone: string): Interval {
  return { start: startOfDay(range.from, timeZone), end: startOfDay(addDays(range.to, 1), timeZone) };
}

export type VisitTimes = { startedAt: Date; endedAt: Date; completed: boolean };

/**
 * A site is serviced in the range when a completed visit overlapped it: it began before the range
 * ended and finished after the range began. A visit that finished exactly at midnight belongs to the
 * day before. The SQL of the site map applies the same condition.
 */
export function visitInRange(visit: VisitTimes, interval: Interval): boolean {
  return visit.startedAt < interval.end && visit.endedAt > interval.start;
}

export function servicedInRange(visits: VisitTimes[], interval: Interval): boolean {
  return visits.some((v) => v.completed && visitInRange(v, interval));
}

/** A login link works for 6 calendar months from the moment it was enabled (or last refreshed). */
export function loginLinkExpiry(activatedAt: Date): Date {
  const day = activatedAt.toISOString().slice(0, 10);
  const later = addMonths(day, 6);
  return new Date(`${later}T${activatedAt.toISOString().slice(11)}`);
}

/** "2026-11-24T09:30" as the wall clock of a zone, to an instant; null when it is no such time. */
export function localDateTimeToInstant(value: string, timeZone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(wall).getUTCDate() !== d || h > 23 || mi > 59) return null;
  let t = wall - zoneOffsetMs(timeZone, wall);
  t = wall - zoneOffsetMs(timeZone, t);
  return new Date(t);
}

export const MAX_VISIT_HOURS = 7 * 24;

export const MAX_VEHICLE_LENGTH = 120;
export const MAX_VISIT_NOTES = 2000;

export type VisitFields = { vehicle: string; startedAt: Date | null; endedAt: Date | null; notes: string };

/** What is wrong with a service visit, field by field (staff form, API and import share it). */
export function visitProblems(v: VisitFields): Record<string, string> {
  const errors: Record<string, string> = {};
  const vehicle = v.vehicle.trim();
  if (!vehicle) errors.vehicle = 'Enter the vehicle (its name or registration).';
  else if (textLength(vehicle) > MAX_VEHICLE_LENGTH) errors.vehicle = `Use at most ${MAX_VEHICLE_LENGTH} characters.`;
  if (!v.startedAt) errors.started_at = 'Enter when the visit started.';
  if (!v.endedAt) errors.ended_at = 'Enter when the visit ended.';
  if (v.startedAt && v.endedAt) {
    if (v.endedAt < v.startedAt) errors.ended_at = 'The visit cannot end before it started.';
    else if (v.endedAt.getTime() - v.startedAt.getTime() > MAX_VISIT_HOURS * 3_600_000)
      errors.ended_at = 'A visit lasts at most 7 days.';
  }
  if (textLength(v.notes) > MAX_VISIT_NOTES)
    errors.notes = `Use at most ${MAX_VISIT_NOTES.toLocaleString('en-GB')} characters.`;
  return errors;
}

export const PICTURE_MAX_BYTES = 2 * 1024 * 1024;

/**
 * The picture's type from its first bytes (never from what the sender claims); null when it is not
 * PNG, JPEG or WebP.
 */
export function pictureType(bytes: Buffer): 'image/png' | 'image/jpeg' | 'image/webp' | null {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP')
    return 'image/webp';
  return null;
}
