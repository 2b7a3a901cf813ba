import { describe, expect, it } from 'vitest';
import { formatDuration, lastMonthStart, otherParty } from '../../src/services/assets/call-record-rules.js';

describe('call data record rules', () => {
  it('goes back one calendar month, to the last day of a shorter month', () => {
    expect(lastMonthStart(new Date('2026-11-24T09:00:00Z')).toISOString()).toBe('2026-10-24T09:00:00.000Z');
    expect(lastMonthStart(new Date('2026-03-31T10:30:00Z')).toISOString()).toBe('2026-02-28T10:30:00.000Z');
    expect(lastMonthStart(new Date('2028-03-31T00:00:00Z')).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(lastMonthStart(new Date('2027-01-15T00:00:00Z')).toISOString()).toBe('2026-12-15T00:00:00.000Z');
  });

  it('shows the other party of a call or message', () => {
    expect(otherParty({ direction: 'inbound', from_number: '+441', to_number: '+442' })).toBe('+441');
    expect(otherParty({ direction: 'outbound', from_number: '+441', to_number: '+442' })).toBe('+442');
  });

  it('formats durations as minutes and seconds, with hours when there are any', () => {
    expect(formatDuration(42)).toBe('0:42');
    expect(formatDuration(3723)).toBe('1:02:03');
  });
});
