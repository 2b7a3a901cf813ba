import { describe, expect, it } from 'vitest';
import {
  defaultRange,
  intervalOf,
  loginLinkExpiry,
  rangeFrom,
  servicedInRange,
  startOfDay,
  visitInRange,
} from '../../src/services/sites/rules.js';
import { english } from '../../src/services/platform/i18n.js';

const visit = (start: string, end: string, completed = true) => ({
  startedAt: new Date(start),
  endedAt: new Date(end),
  completed,
});

describe('the site map date range', () => {
  it("defaults to the last 7 days, today included, in the viewer's zone", () => {
    // 23:30 UTC on 30 Nov is already 1 Dec in Auckland
    expect(defaultRange('UTC', new Date('2026-11-30T23:30:00Z'))).toEqual({ from: '2026-11-24', to: '2026-11-30' });
    expect(defaultRange('Pacific/Auckland', new Date('2026-11-30T23:30:00Z'))).toEqual({
      from: '2026-11-25',
      to: '2026-12-01',
    });
  });

  it('reads the range from the query, filling a missing end, and refuses bad ones with a message', () => {
    const now = new Date('2026-11-30T12:00:00Z');
    expect(rangeFrom({ from: '2026-11-01', to: '2026-11-15' }, 'UTC', now)).toEqual({
      range: { from: '2026-11-01', to: '2026-11-15' },
    });
    expect(rangeFrom({ from: '2026-11-01' }, 'UTC', now).range).toEqual({ from: '2026-11-01', to: '2026-11-07' });
    expect(rangeFrom({ from: '2026-11-15', to: '2026-11-01' }, 'UTC', now).error).toBe(
      'The start date is after the end date.',
    );
    expect(rangeFrom({ from: '2026-02-30' }, 'UTC', now).error).toBe('Enter dates as YYYY-MM-DD.');
    expect(english.t(rangeFrom({ from: '2024-01-01', to: '2026-01-01' }, 'UTC', now).error)).toMatch(
      /at most 366 days/,
    );
  });

  it('turns days into instants at midnight in the zone, across daylight saving changes', () => {
    expect(startOfDay('2026-07-01', 'Europe/London').toISOString()).toBe('2026-06-30T23:00:00.000Z');
    expect(startOfDay('2026-12-01', 'Europe/London').toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(startOfDay('2026-12-01', 'America/New_York').toISOString()).toBe('2026-12-01T05:00:00.000Z');
    expect(startOfDay('2026-12-01', 'Pacific/Auckland').toISOString()).toBe('2026-11-30T11:00:00.000Z');
    // London's clocks go forward on 29 March 2026: that day has 23 hours
    const spring = intervalOf({ from: '2026-03-29', to: '2026-03-29' }, 'Europe/London');
    expect(spring.end.getTime() - spring.start.getTime()).toBe(23 * 3_600_000);
  });
});

describe('serviced in the range', () => {
  const range = intervalOf({ from: '2026-11-24', to: '2026-11-30' }, 'Europe/London');

  it('counts a completed visit that overlaps the range, at either edge', () => {
    expect(visitInRange(visit('2026-11-24T00:00:00Z', '2026-11-24T00:30:00Z'), range)).toBe(true);
    expect(visitInRange(visit('2026-11-30T23:30:00Z', '2026-11-30T23:59:59Z'), range)).toBe(true);
    // began the evening before and finished inside the range
    expect(visitInRange(visit('2026-11-23T23:30:00Z', '2026-11-24T00:10:00Z'), range)).toBe(true);
  });

  it('does not count a visit that finished exactly as the range began, or began as it ended', () => {
    expect(visitInRange(visit('2026-11-23T23:00:00Z', '2026-11-24T00:00:00Z'), range)).toBe(false);
    expect(visitInRange(visit('2026-12-01T00:00:00Z', '2026-12-01T01:00:00Z'), range)).toBe(false);
  });

  it('does not count a visit that was not completed', () => {
    expect(servicedInRange([visit('2026-11-25T09:00:00Z', '2026-11-25T10:00:00Z', false)], range)).toBe(false);
    expect(servicedInRange([visit('2026-11-25T09:00:00Z', '2026-11-25T10:00:00Z')], range)).toBe(true);
  });

  it("depends on the viewer's zone: the same visit is in a New York range and outside an Auckland one", () => {
    // 23 Nov, 21:00 in New York; 24 Nov, 15:00 in Auckland
    const late = visit('2026-11-24T02:00:00Z', '2026-11-24T03:00:00Z');
    const day = { from: '2026-11-23', to: '2026-11-23' };
    expect(visitInRange(late, intervalOf(day, 'America/New_York'))).toBe(true);
    expect(visitInRange(late, intervalOf(day, 'Pacific/Auckland'))).toBe(false);
  });
});

describe('login link expiry', () => {
  it('is 6 calendar months after activation, at the same time of day', () => {
    expect(loginLinkExpiry(new Date('2026-11-24T09:00:00Z')).toISOString()).toBe('2027-05-24T09:00:00.000Z');
    expect(loginLinkExpiry(new Date('2026-08-31T09:00:00Z')).toISOString()).toBe('2027-02-28T09:00:00.000Z');
  });
});
