import { BadRequestError } from '../../errors.js';
import { isStorableText } from './text-rules.js';

/**
 * Paging for every list: the page sizes offered, keyset cursors (opaque to the browser) and list
 * addresses that carry only what differs from the defaults, so a list state can be bookmarked.
 */

/** The sizes every list offers, and the one it starts with. */
export const PAGE_SIZES = [10, 25, 50, 100] as const;
export type PageSize = (typeof PAGE_SIZES)[number];
export const DEFAULT_PAGE_SIZE: PageSize = 25;

/** A size from the address bar, or the default when it is missing or not one of PAGE_SIZES. */
export function pageSizeOf(value: unknown, fallback: PageSize = DEFAULT_PAGE_SIZE): PageSize {
  const size = Number(Array.isArray(value) ? value[0] : value);
  return (PAGE_SIZES as readonly number[]).includes(size) ? (size as PageSize) : fallback;
}

/** A keyset cursor: base64url of the JSON of the last row's sort values. */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/**
 * A cursor from the address bar, checked by `read` (which returns null for values that are not
 * ours); null for anything else, so a tampered or truncated cursor never reaches the SQL.
 */
export function decodeCursor<T>(value: unknown, read: (values: unknown[]) => T | null, maxLength = 2000): T | null {
  if (typeof value !== 'string' || !value || value.length > maxLength) return null;
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return null;
  try {
    const values: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    // JSON may carry a NUL or an unpaired surrogate (\u0000, \ud800): no row's sort value holds one
    if (!Array.isArray(values) || values.some((v) => typeof v === 'string' && !isStorableText(v))) return null;
    return read(values);
  } catch {
    return null;
  }
}

/** A cursor from the address bar that no list wrote: the list answers 400 instead of a page it was not asked for. */
export class BadCursorError extends BadRequestError {
  constructor() {
    super('This page of the list is not valid any more (the link is old or was changed). Open the list again.');
  }
}

/**
 * A list's cursor parameter (the first, if sent twice): null when absent, the cursor when `decode`
 * reads it, and BadCursorError (400) otherwise: a cursor is never silently dropped for the first
 * page, and never reaches the SQL unless it can be a row's position.
 */
export function cursorParam<T>(value: unknown, decode: (value: unknown) => T | null): T | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === null || v === '') return null;
  const cursor = decode(v);
  if (cursor === null) throw new BadCursorError();
  return cursor;
}

const BIGINT_MAX = 9_223_372_036_854_775_807n;

/** A bigint row id as text (a keyset position), or null when it cannot be one: positive, at most 2^63 - 1. */
export function decodeIdCursor(value: unknown): string | null {
  return typeof value === 'string' && /^[1-9]\d{0,18}$/.test(value) && BigInt(value) <= BIGINT_MAX ? value : null;
}

/** A row id JavaScript counts exactly (outgoing mail, audit entries), or null. */
export function decodeSafeIdCursor(value: unknown): number | null {
  const id = decodeIdCursor(value);
  return id !== null && Number.isSafeInteger(Number(id)) ? Number(id) : null;
}

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * A time as cursors carry it, the way PostgreSQL writes it with
 * `to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`: UTC to the microsecond, and a
 * time that exists (no 31 February, no year 0), so the `::timestamptz` it goes into never fails.
 */
export function isCursorTime(value: unknown): value is string {
  if (typeof value !== 'string' || !CURSOR_TIME.test(value) || value.startsWith('0000')) return false;
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === value.slice(0, 19);
}

/**
 * A list's address: `base` and the query parameters whose values are set and differ from
 * `defaults`, in the order given, so one list state always has one address.
 */
export function listHref(
  base: string,
  params: Record<string, string | number | null | undefined>,
  defaults: Record<string, string | number> = {},
): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined || value === '' || value === defaults[key]) continue;
    query.set(key, String(value));
  }
  return query.size ? `${base}?${query.toString()}` : base;
}
