import { english } from './i18n.js';

/**
 * "24 Nov 2026, 14:05 GMT" in the given zone, empty for no time: a stored UTC time in English, as logs,
 * CLI and English mail write it (pages write it in their reader's language: `localTime`).
 */
export function formatDateTime(value: Date | string | null | undefined, timeZone: string): string {
  return english.dateTime(value, timeZone);
}

let zones: string[] | undefined;
let zoneSet: Set<string> | undefined;

/** Every zone a user may choose: the runtime's IANA list, with UTC. */
export function timeZoneChoices(): string[] {
  zones ??= ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];
  return zones;
}

/** One of the listed zones, or another IANA name for one of them (the list has Asia/Calcutta, not Asia/Kolkata). */
export function isTimeZone(value: string): boolean {
  zoneSet ??= new Set(timeZoneChoices());
  if (zoneSet.has(value)) return true;
  if (!/^[A-Za-z]+(\/[A-Za-z0-9_+-]+){1,2}$/.test(value)) return false;
  try {
    return zoneSet.has(new Intl.DateTimeFormat('en', { timeZone: value }).resolvedOptions().timeZone);
  } catch {
    return false;
  }
}

/** The zones to offer a user: the list, with the user's own zone first when the list names it differently. */
export function timeZoneChoicesFor(current: string): string[] {
  const all = timeZoneChoices();
  return all.includes(current) || !isTimeZone(current) ? all : [current, ...all];
}

const secondFormatters = new Map<string, Intl.DateTimeFormat>();

/** "24 Nov 2026, 14:05:09 GMT" in the given zone: usage records, where seconds tell records apart. */
export function formatDateTimeSeconds(value: Date | string, timeZone: string): string {
  let f = secondFormatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        timeZone,
        timeZoneName: 'short',
      });
    } catch {
      return formatDateTimeSeconds(value, 'UTC');
    }
    secondFormatters.set(timeZone, f);
  }
  return f.format(value instanceof Date ? value : new Date(value));
}
