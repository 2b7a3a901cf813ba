import { describe, expect, it } from 'vitest';
import { english } from '../../src/services/platform/i18n.js';
import { canMove, invoiceNumberLabel, nextStatuses } from '../../src/services/billing/invoice-rules.js';
import { formatMoney, minorDigits, toDecimalString } from '../../src/services/billing/money.js';
import {
  acd,
  asr,
  formatDuration,
  periodDays,
  periodEnded,
  periodFrom,
  periodLabel,
  summaryHref,
  summaryQueryFrom,
} from '../../src/services/billing/summary-rules.js';

const TODAY = '2026-11-24';

describe('summary query strings', () => {
  it('defaults to the last 31 days of every product, Daily', () => {
    expect(summaryQueryFrom({}, TODAY)).toEqual({
      view: 'daily',
      product: 'all',
      from: '2026-10-25',
      to: TODAY,
      notice: null,
    });
  });

  it('reads months as YYYY-MM and keeps a range the right way round', () => {
    expect(summaryQueryFrom({ view: 'monthly', from: '2026-09', to: '2026-03' }, TODAY)).toMatchObject({
      from: '2026-03-01',
      to: '2026-09-01',
      notice: null,
    });
  });

  it('says so when a date is not a calendar day, and caps a range at a year of days', () => {
    expect(english.t(summaryQueryFrom({ from: '2026-02-30' }, TODAY).notice)).toMatch(/not a calendar day/);
    const long = summaryQueryFrom({ from: '2020-01-01', to: TODAY }, TODAY);
    expect(long).toMatchObject({ from: '2025-11-24', to: TODAY });
    expect(english.t(long.notice)).toMatch(/At most 366 days/);
  });

  it('ignores a product or view it does not know, and Live is always today', () => {
    expect(summaryQueryFrom({ view: 'weekly', product: 'fax' }, TODAY)).toMatchObject({
      view: 'daily',
      product: 'all',
    });
    expect(summaryQueryFrom({ view: 'live', from: '2026-01-01' }, TODAY)).toMatchObject({ from: TODAY, to: TODAY });
  });

  it('writes only what differs from the defaults into the address', () => {
    expect(summaryHref('/billing/summaries', { view: 'daily', product: 'all' })).toBe('/billing/summaries');
    expect(summaryHref('/b', { view: 'monthly', product: 'voice', from: '2026-01-01', to: '2026-11-01' }, '.csv')).toBe(
      '/b.csv?view=monthly&product=voice&from=2026-01&to=2026-11',
    );
  });
});

describe('summary periods and ratios', () => {
  it('knows the days of a row and whether it is over (UTC)', () => {
    expect(periodDays('monthly', '2028-02-01')).toEqual({ start: '2028-02-01', end: '2028-02-29' });
    expect(periodEnded('daily', '2026-11-23', TODAY)).toBe(true);
    expect(periodEnded('daily', TODAY, TODAY)).toBe(false);
    expect(periodEnded('monthly', '2026-11-01', TODAY)).toBe(false);
    expect(periodFrom('monthly', '2026-10')).toBe('2026-10-01');
    expect(periodFrom('daily', '2026-13-01')).toBeNull();
  });

  it('computes ASR over attempts and ACD over connected calls, none without calls', () => {
    expect(asr(3, 4)).toBe(75);
    expect(asr(0, 0)).toBeNull();
    expect(acd(300, 4)).toBe(75);
    expect(acd(0, 0)).toBeNull();
    expect(formatDuration(75)).toBe('1:15');
    expect(formatDuration(3725)).toBe('1:02:05');
    expect(formatDuration(null)).toBe('—');
  });

  it('labels rows by hour, day and month', () => {
    expect(periodLabel('live', '9')).toBe('09:00–10:00');
    expect(periodLabel('monthly', '2026-11-01')).toBe('November 2026');
  });
});

describe('money in minor units', () => {
  it('turns minor units into exact decimals for each currency', () => {
    expect(toDecimalString(12345, 'GBP')).toBe('123.45');
    expect(toDecimalString(-5, 'EUR')).toBe('-0.05');
    expect(toDecimalString(1234, 'JPY')).toBe('1234');
    expect(toDecimalString('9007199254740993', 'USD')).toBe('90071992547409.93');
    expect(minorDigits('BHD')).toBe(3);
  });

  it("formats for the viewer's locale", () => {
    expect(formatMoney(12345, 'GBP', 'en-GB')).toBe('£123.45');
    expect(formatMoney(12345, 'EUR', 'de-DE')).toBe('123,45\u00a0€');
  });
});

describe('invoice statuses', () => {
  it('moves a draft to issued or void, an issued one to paid or void, and nothing further', () => {
    expect(nextStatuses('draft')).toEqual(['issued', 'void']);
    expect(canMove('issued', 'paid')).toBe(true);
    expect(canMove('paid', 'void')).toBe(false);
    expect(canMove('void', 'draft')).toBe(false);
    expect(invoiceNumberLabel(42)).toBe('INV-000042');
  });
});
