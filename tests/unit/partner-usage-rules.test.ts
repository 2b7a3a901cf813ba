import { describe, expect, it } from 'vitest';
import { BadCursorError, encodeCursor } from '../../src/services/platform/paging.js';
import { formatMoney } from '../../src/services/billing/money.js';
import { maskNumber } from '../../src/services/partners/number-masking.js';
import {
  dailyChart,
  decodeUsageCursor,
  encodeUsageCursor,
  usageFilterFrom,
  usageListHref,
} from '../../src/services/partners/usage-rules.js';
import { billableUnits } from '../../src/services/billing/usage-records.js';

describe('maskNumber', () => {
  it('shows four dots and the last four digits of a national or international number', () => {
    expect(maskNumber('07700900123')).toBe('••••0123');
    expect(maskNumber('+447700900123')).toBe('••••0123');
    expect(maskNumber('+1 (212) 555-0142')).toBe('••••0142');
    expect(maskNumber('0044 20 7946 0001')).toBe('••••0001');
  });

  it('gives no hint of length or country code: long and short numbers look alike', () => {
    expect(maskNumber('+8613800138000')).toHaveLength(maskNumber('12345').length);
    expect(maskNumber('+8613800138000')).not.toMatch(/\+|86/);
    expect(maskNumber('81234')).toBe('••••1234');
  });

  it('hides a number of four digits or fewer entirely, since its last four digits are the whole number', () => {
    expect(maskNumber('1234')).toBe('••••');
    expect(maskNumber('112')).toBe('••••');
    expect(maskNumber('7')).toBe('••••');
    expect(maskNumber('+44')).toBe('••••');
  });

  it('shows nothing of a sender name, an empty value or a missing one', () => {
    expect(maskNumber('NORTHWIND')).toBe('••••');
    expect(maskNumber('Info2Go')).toBe('••••');
    expect(maskNumber('')).toBe('••••');
    expect(maskNumber(null)).toBe('••••');
    expect(maskNumber(undefined)).toBe('••••');
  });
});

describe('usage log rules', () => {
  it('defaults to the last 30 days and ignores what it does not understand, but not a bad cursor', () => {
    const f = usageFilterFrom({ direction: 'sideways', status: 'maybe', size: '7' }, '2026-11-24');
    expect(f).toEqual({ from: '2026-10-26', to: '2026-11-24', direction: null, status: null, after: null, size: 25 });
    expect(() => usageFilterFrom({ after: 'junk' }, '2026-11-24')).toThrow(BadCursorError);
  });

  it('swaps a period given backwards and bounds it to a year', () => {
    expect(usageFilterFrom({ from: '2026-11-20', to: '2026-11-01' }, '2026-11-24')).toMatchObject({
      from: '2026-11-01',
      to: '2026-11-20',
    });
    expect(usageFilterFrom({ from: '2020-01-01', to: '2026-11-24' }, '2026-11-24').from).toBe('2025-11-24');
    expect(usageFilterFrom({ from: '2026-02-30' }, '2026-11-24').from).toBe('2026-10-26');
  });

  it('round-trips a keyset cursor and refuses one it did not make', () => {
    const c = { occurredAt: '2026-11-24T09:00:00.123456Z', id: '42' };
    expect(decodeUsageCursor(encodeUsageCursor(c))).toEqual(c);
    expect(
      decodeUsageCursor(Buffer.from('2026-11-24T09:00:00.123456Z|1; drop table x').toString('base64url')),
    ).toBeNull();
    // what the SQL could not take: an id past bigint, a day February does not have
    const raw = (time: string, id: string) => decodeUsageCursor(encodeCursor([time, id]));
    expect(raw('2026-11-24T09:00:00.123456Z', '9223372036854775808')).toBeNull();
    expect(raw('2026-11-24T09:00:00.123456Z', '9223372036854775807')).toEqual({
      occurredAt: '2026-11-24T09:00:00.123456Z',
      id: '9223372036854775807',
    });
    expect(raw('2026-02-30T09:00:00.123456Z', '1')).toBeNull();
  });

  it('leaves defaults out of the link', () => {
    const f = usageFilterFrom({}, '2026-11-24');
    expect(usageListHref('/x', f, '2026-11-24')).toBe('/x');
    expect(usageListHref('/x', { ...f, status: 'failed' }, '2026-11-24', 'abc')).toBe('/x?status=failed&after=abc');
  });

  it('charts every day of the period, days without usage at zero', () => {
    const chart = dailyChart([{ day: '2026-11-02', records: 10, spendMinor: 40 }], {
      from: '2026-11-01',
      to: '2026-11-03',
    });
    expect(chart.bars.map((b) => [b.day, b.records, b.recordsHeight])).toEqual([
      ['2026-11-01', 0, 0],
      ['2026-11-02', 10, 160],
      ['2026-11-03', 0, 0],
    ]);
    expect(chart.maxSpendMinor).toBe(40);
  });

  it('bills SMS parts, started minutes, answered sessions and app messages', () => {
    expect(billableUnits({ product: 'sms', units: 2, durationSeconds: 0, status: 'failed' })).toBe(2);
    expect(billableUnits({ product: 'voice', units: 1, durationSeconds: 61, status: 'answered' })).toBe(2);
    expect(billableUnits({ product: 'voice', units: 1, durationSeconds: 0, status: 'busy' })).toBe(0);
    expect(billableUnits({ product: 'video', units: 1, durationSeconds: 30, status: 'answered' })).toBe(1);
    expect(billableUnits({ product: 'video', units: 1, durationSeconds: 0, status: 'no_answer' })).toBe(0);
  });

  it('formats minor units in the currency', () => {
    expect(formatMoney(1234, 'GBP')).toBe('£12.34');
    expect(formatMoney(-50, 'EUR')).toBe('-€0.50');
    expect(formatMoney(500, 'JPY')).toBe('JP¥500');
  });
});
