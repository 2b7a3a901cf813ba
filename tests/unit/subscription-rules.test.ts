import { describe, expect, it } from 'vitest';
import {
  addMonths,
  currentTerm,
  deactivationDate,
  renewalState,
  termFor,
  todayIn,
} from '../../src/services/assets/subscription-rules.js';

describe('terms', () => {
  it('ends a yearly term the day before the anniversary', () => {
    expect(termFor('yearly', '2026-03-15')).toEqual({
      termStart: '2026-03-15',
      termEnd: '2027-03-14',
      nextRenewalOn: '2027-03-15',
    });
  });

  it('keeps month ends: a quarterly term from 30 November ends on the last day of February', () => {
    expect(termFor('quarterly', '2027-11-30')).toMatchObject({ termEnd: '2028-02-28', nextRenewalOn: '2028-02-29' });
    expect(addMonths('2027-11-30', 3)).toBe('2028-02-29');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2028-02-29', 12)).toBe('2029-02-28');
  });

  it('gives a monthly plan no renewal date', () => {
    expect(termFor('monthly', '2026-05-01')).toEqual({
      termStart: '2026-05-01',
      termEnd: '2026-05-31',
      nextRenewalOn: null,
    });
  });
});

describe('the current term', () => {
  const monthly = (status: string, termStart: string, termEnd: string) => ({
    plan: 'monthly' as const,
    status,
    termStart,
    termEnd,
  });

  it('keeps a monthly plan in its first term until that term is over, then runs by the calendar month', () => {
    const jan31 = monthly('active', '2028-01-31', '2028-02-28');
    expect(currentTerm(jan31, '2028-02-28')).toEqual({ termStart: '2028-01-31', termEnd: '2028-02-28' });
    expect(currentTerm(jan31, '2028-02-29')).toEqual({ termStart: '2028-02-01', termEnd: '2028-02-29' });
    expect(currentTerm(jan31, '2028-03-01')).toEqual({ termStart: '2028-03-01', termEnd: '2028-03-31' });
    expect(currentTerm(jan31, '2029-02-10')).toEqual({ termStart: '2029-02-01', termEnd: '2029-02-28' });
  });

  it('keeps the stored term of a monthly plan that is not running, and of yearly and quarterly plans', () => {
    const stored = { termStart: '2026-11-01', termEnd: '2026-11-30' };
    expect(currentTerm(monthly('deactivation_pending', '2026-11-01', '2026-11-30'), '2027-01-05')).toEqual(stored);
    expect(currentTerm(monthly('deactivated', '2026-11-01', '2026-11-30'), '2027-01-05')).toEqual(stored);
    const yearly = { plan: 'yearly' as const, status: 'active', termStart: '2026-01-10', termEnd: '2027-01-09' };
    expect(currentTerm(yearly, '2027-02-01')).toEqual({ termStart: '2026-01-10', termEnd: '2027-01-09' });
    const never = { plan: 'monthly' as const, status: 'active', termStart: null, termEnd: null };
    expect(currentTerm(never, '2027-02-01')).toEqual({ termStart: null, termEnd: null });
  });
});

describe('when a deactivation takes effect', () => {
  const monthly = { plan: 'monthly' as const, termEnd: null, nextRenewalOn: null, renewalUnconfirmed: false };

  it('is the last day of the month for monthly plans, 29 February in a leap year', () => {
    expect(deactivationDate(monthly, '2028-02-03')).toBe('2028-02-29');
    expect(deactivationDate(monthly, '2027-02-28')).toBe('2027-02-28');
    expect(deactivationDate(monthly, '2026-12-31')).toBe('2026-12-31');
    expect(deactivationDate(monthly, '2026-01-31')).toBe('2026-01-31');
    expect(deactivationDate(monthly, '2026-12-01')).toBe('2026-12-31');
  });

  it('is the end of the yearly or quarterly term, even when that is a weekend', () => {
    const yearly = {
      plan: 'yearly' as const,
      termEnd: '2027-03-14',
      nextRenewalOn: '2027-03-15',
      renewalUnconfirmed: false,
    };
    expect(deactivationDate(yearly, '2026-11-24')).toBe('2027-03-14'); // a Sunday
    const quarterly = {
      plan: 'quarterly' as const,
      termEnd: '2026-11-30',
      nextRenewalOn: '2026-12-01',
      renewalUnconfirmed: false,
    };
    expect(deactivationDate(quarterly, '2026-11-30')).toBe('2026-11-30');
    const overYearEnd = { ...quarterly, termEnd: '2027-01-04', nextRenewalOn: '2027-01-05' };
    expect(deactivationDate(overYearEnd, '2026-12-01')).toBe('2027-01-04');
  });

  it('is the end of the next term when the current one is already over', () => {
    const lapsed = {
      plan: 'yearly' as const,
      termEnd: '2026-10-31',
      nextRenewalOn: '2026-11-01',
      renewalUnconfirmed: true,
    };
    expect(deactivationDate(lapsed, '2026-11-24')).toBe('2027-10-31');
  });

  it('counts the day in the viewer’s time zone: 23:30 UTC on 31 January is already February in Berlin', () => {
    const now = new Date('2027-01-31T23:30:00Z');
    expect(deactivationDate(monthly, todayIn('UTC', now))).toBe('2027-01-31');
    expect(deactivationDate(monthly, todayIn('Europe/Berlin', now))).toBe('2027-02-28');
    expect(todayIn('America/New_York', new Date('2027-03-01T03:00:00Z'))).toBe('2027-02-28');
  });
});

describe('renewal states', () => {
  const yearly = (nextRenewalOn: string, renewalUnconfirmed = false) => ({
    plan: 'yearly' as const,
    termEnd: null,
    nextRenewalOn,
    renewalUnconfirmed,
  });

  it('shows nothing for a monthly plan', () => {
    expect(
      renewalState({ plan: 'monthly', termEnd: null, nextRenewalOn: null, renewalUnconfirmed: false }, '2026-11-24'),
    ).toBe('none');
  });

  it('warns from 28 days before the renewal, not 29', () => {
    expect(renewalState(yearly('2026-12-22'), '2026-11-24')).toBe('due_soon'); // 28 days
    expect(renewalState(yearly('2026-12-23'), '2026-11-24')).toBe('scheduled'); // 29 days
    expect(renewalState(yearly('2026-11-24'), '2026-11-24')).toBe('due_soon'); // today
  });

  it('flags a term that renewed itself until the customer confirms', () => {
    expect(renewalState(yearly('2027-11-01', true), '2026-11-24')).toBe('unconfirmed');
  });
});
