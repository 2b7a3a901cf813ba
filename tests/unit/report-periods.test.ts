import { describe, expect, it } from 'vitest';
import { monthName, monthOf, weekOf } from '../../src/services/reports/period-rules.js';

describe('the periods of the scheduled reports', () => {
  it('reads a week from its Monday to its Sunday, across a month and a year', () => {
    expect(weekOf('2026-11-30')).toEqual({ from: '2026-11-30', to: '2026-12-06' });
    expect(weekOf('2026-12-28')).toEqual({ from: '2026-12-28', to: '2027-01-03' });
  });

  it('reads a month to its last day, February of a leap year included', () => {
    expect(monthOf('2026-11-01')).toEqual({ from: '2026-11-01', to: '2026-11-30' });
    expect(monthOf('2028-02-01')).toEqual({ from: '2028-02-01', to: '2028-02-29' });
    expect(monthOf('2026-12-01')).toEqual({ from: '2026-12-01', to: '2026-12-31' });
    expect(monthName('2026-11-01')).toBe('November 2026');
  });
});
