import { describe, expect, it } from 'vitest';
import {
  assetFilterFrom,
  assetListHref,
  csvDateTime,
  decodeAssetCursor,
  encodeAssetCursor,
  listRenewal,
  SEARCH_HINT,
} from '../../src/services/assets/list-rules.js';

const TODAY = '2026-11-24';
const cursor = {
  customerId: '6a1f0c1e-8d3b-4c41-9f0e-2b7d3c9a1e55',
  groupPath: 'Trucks / North',
  identifier: '354800000000017',
  id: '0f8e2d7c-1b4a-4e6f-8a9b-3c5d7e9f1a2b',
};

describe('list state from the address bar', () => {
  it('reads tab, search, page size and cursors, and falls back to the defaults for anything else', () => {
    const f = assetFilterFrom(
      { tab: 'deactivation-pending', q: '  Van 7 ', size: '50', after: encodeAssetCursor(cursor) },
      TODAY,
    );
    expect(f).toEqual({
      tab: 'deactivation-pending',
      q: 'Van 7',
      due: null,
      size: 50,
      after: cursor,
      before: null,
      today: TODAY,
    });
    expect(assetFilterFrom({ due: '28d', tab: 'active' }, TODAY)).toMatchObject({ due: '28d', tab: 'active' });
    expect(assetFilterFrom({ due: '7d' }, TODAY).due).toBeNull();
    expect(assetFilterFrom({ tab: 'archived', size: '1000', q: ['a', 'b'] }, TODAY)).toMatchObject({
      tab: 'all',
      size: 25,
      q: 'a',
    });
  });

  it('ignores a cursor that was not made by the list', () => {
    expect(decodeAssetCursor(encodeAssetCursor(cursor))).toEqual(cursor);
    expect(decodeAssetCursor('not-a-cursor')).toBeNull();
    expect(decodeAssetCursor(Buffer.from(JSON.stringify(['x', 'g', 'i', cursor.id])).toString('base64url'))).toBeNull();
    expect(
      decodeAssetCursor(Buffer.from(JSON.stringify([cursor.customerId, 'g', 7, cursor.id])).toString('base64url')),
    ).toBeNull();
    expect(decodeAssetCursor(Buffer.from('{"a":1}').toString('base64url'))).toBeNull();
  });

  it('writes only what differs from the defaults into a link, in a fixed order', () => {
    expect(assetListHref('/assets', { tab: 'all', q: '', size: 25 })).toBe('/assets');
    expect(assetListHref('/assets', { tab: 'active', q: 'red van', size: 10, after: 'abc' })).toBe(
      '/assets?tab=active&q=red+van&size=10&after=abc',
    );
    expect(assetListHref('/assets.csv', { q: 'x', before: 'b', scope: 'page' })).toBe(
      '/assets.csv?q=x&before=b&scope=page',
    );
  });

  it('has a hint for a search too short to filter', () => {
    expect(SEARCH_HINT).toBe('Type at least 2 characters to search.');
  });
});

describe('the renewal column of the list', () => {
  const running = { status: 'active' as const, plan: 'yearly' as const, renewal_unconfirmed: false };
  it('shows the four states of a running subscription', () => {
    expect(listRenewal({ ...running, plan: 'monthly', next_renewal_on: null }, TODAY)).toEqual({
      state: 'none',
      text: 'Monthly plan, invoiced on the 1st',
      day: null,
    });
    expect(listRenewal({ ...running, next_renewal_on: '2026-12-22' }, TODAY)).toEqual({
      state: 'due_soon',
      text: 'Renews within 4 weeks',
      day: '2026-12-22',
    });
    expect(listRenewal({ ...running, next_renewal_on: '2026-12-23' }, TODAY)).toEqual({
      state: 'scheduled',
      text: 'Renews on this date',
      day: '2026-12-23',
    });
    expect(listRenewal({ ...running, next_renewal_on: '2027-11-01', renewal_unconfirmed: true }, TODAY).state).toBe(
      'unconfirmed',
    );
  });

  it(
    'shows no renewal for an asset that is not active, ' +
      'or whose deactivation is pending unless a renewal awaits confirmation',
    () => {
      expect(listRenewal({ ...running, status: 'inactive', next_renewal_on: '2026-12-01' }, TODAY)).toEqual({
        state: 'none',
        text: 'No renewal: the asset is not active',
        day: null,
      });
      expect(
        listRenewal({ ...running, status: 'deactivation_pending', next_renewal_on: '2026-12-01' }, TODAY).text,
      ).toBe('No renewal: a deactivation is pending');
      expect(
        listRenewal(
          { ...running, status: 'deactivation_pending', next_renewal_on: '2027-11-01', renewal_unconfirmed: true },
          TODAY,
        ).state,
      ).toBe('unconfirmed');
    },
  );
});

describe('times in the CSV', () => {
  it('are written to the minute in the viewer’s zone, as PostgreSQL writes them', () => {
    const t = new Date('2026-07-01T23:59:59Z');
    expect(csvDateTime(t, 'UTC')).toBe('2026-07-01 23:59');
    expect(csvDateTime(t, 'Europe/London')).toBe('2026-07-02 00:59');
    expect(csvDateTime(t, 'America/New_York')).toBe('2026-07-01 19:59');
    expect(csvDateTime(null, 'UTC')).toBe('');
  });
});
