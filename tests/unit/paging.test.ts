import { describe, expect, it } from 'vitest';
import {
  BadCursorError,
  cursorParam,
  decodeCursor,
  decodeIdCursor,
  encodeCursor,
  isCursorTime,
  listHref,
  pageSizeOf,
} from '../../src/services/platform/paging.js';

const readPair = (v: unknown[]) => (v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'number' ? v : null);

describe('paging', () => {
  it('offers the same page sizes everywhere and falls back to 25 for anything else', () => {
    expect(pageSizeOf('50')).toBe(50);
    expect(pageSizeOf(['100', '10'])).toBe(100);
    expect(pageSizeOf('37')).toBe(25);
    expect(pageSizeOf(undefined)).toBe(25);
    expect(pageSizeOf('1e9', 10)).toBe(10);
  });

  it('reads back the cursor it wrote, and nothing a visitor made up', () => {
    const cursor = encodeCursor(['Trucks/North', 42]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, readPair)).toEqual(['Trucks/North', 42]);
    expect(decodeCursor(encodeCursor(['only one']), readPair)).toBeNull();
    expect(decodeCursor('not base64 at all!', readPair)).toBeNull();
    expect(decodeCursor(Buffer.from('{"a":1}').toString('base64url'), readPair)).toBeNull();
    expect(decodeCursor('x'.repeat(2001), readPair)).toBeNull();
    expect(decodeCursor(['array'], readPair)).toBeNull();
  });

  it('refuses sort values no row holds: a NUL or an unpaired surrogate', () => {
    expect(decodeCursor(encodeCursor(['Trucks\u0000', 1]), readPair)).toBeNull();
    expect(decodeCursor(encodeCursor(['\ud800', 1]), readPair)).toBeNull();
  });

  it('answers a cursor parameter that is there but not one of ours with 400, and an absent one with null', () => {
    expect(cursorParam(undefined, decodeIdCursor)).toBeNull();
    expect(cursorParam('', decodeIdCursor)).toBeNull();
    expect(cursorParam(['42', 'x'], decodeIdCursor)).toBe('42');
    for (const bad of ['9223372036854775808', '0', '007', '-1', '1e3', 'x'])
      expect(() => cursorParam(bad, decodeIdCursor), bad).toThrow(BadCursorError);
    expect(new BadCursorError().status).toBe(400);
  });

  it('takes a time in a cursor only as PostgreSQL writes it, and only one that exists', () => {
    expect(isCursorTime('2026-11-24T09:00:00.123456Z')).toBe(true);
    expect(isCursorTime('2028-02-29T23:59:59.999999Z')).toBe(true);
    expect(isCursorTime('2026-11-24T09:00:00Z')).toBe(false);
    expect(isCursorTime('2026-11-24 09:00:00.123456+00')).toBe(false);
    expect(isCursorTime('2026-02-31T00:00:00.000000Z')).toBe(false);
    expect(isCursorTime('2026-13-01T00:00:00.000000Z')).toBe(false);
    expect(isCursorTime('2026-11-24T24:00:00.000000Z')).toBe(false);
    expect(isCursorTime('0000-01-01T00:00:00.000000Z')).toBe(false);
    expect(isCursorTime(1764000000000)).toBe(false);
  });

  it('gives a list state one address: set values that differ from the defaults, in order', () => {
    expect(listHref('/assets', { tab: 'all', q: '', size: 25, after: null }, { tab: 'all', size: 25 })).toBe('/assets');
    expect(listHref('/assets', { tab: 'active', q: 'van 7', size: 50 }, { tab: 'all', size: 25 })).toBe(
      '/assets?tab=active&q=van+7&size=50',
    );
  });
});
