import { describe, expect, it } from 'vitest';
import {
  activeAssetsOf,
  boundedCountLabel,
  checkGroupForm,
  createsCycle,
  groupListQueryFrom,
  isActiveGroup,
  isDueForRenewal,
  pathOf,
  submittedIds,
  type AssetCounter,
  type RenewalFacts,
} from '../../src/services/groups/rules.js';

// Trucks > North > Hills, Trucks > South, and Vans beside them
const groups = [
  { id: 'trucks', parentId: null },
  { id: 'north', parentId: 'trucks' },
  { id: 'hills', parentId: 'north' },
  { id: 'south', parentId: 'trucks' },
  { id: 'vans', parentId: null },
];
const parentOf = new Map(groups.map((g) => [g.id, g.parentId]));

describe('which groups are active', () => {
  const counters: AssetCounter[] = [
    { groupId: 'hills', status: 'active', n: 2 },
    { groupId: 'south', status: 'deactivation_pending', n: 1 },
    { groupId: 'vans', status: 'inactive', n: 4 },
    { groupId: 'vans', status: 'activation_pending', n: 1 },
  ];

  it('counts a group active through an active asset two levels below it', () => {
    expect(activeAssetsOf('trucks', groups, counters)).toBe(2);
    expect(activeAssetsOf('north', groups, counters)).toBe(2);
    expect(isActiveGroup(activeAssetsOf('trucks', groups, counters))).toBe(true);
  });

  it('does not count assets beside the group, being deactivated, pending or inactive', () => {
    expect(activeAssetsOf('south', groups, counters)).toBe(0);
    expect(activeAssetsOf('vans', groups, counters)).toBe(0);
    expect(isActiveGroup(0)).toBe(false);
  });
});

describe('due for renewal within 28 days', () => {
  const today = '2026-11-24';
  const yearly = (nextRenewalOn: string | null, more: Partial<RenewalFacts> = {}): RenewalFacts => ({
    status: 'active',
    plan: 'yearly',
    nextRenewalOn,
    renewalUnconfirmed: false,
    ...more,
  });

  it('counts today and the 28th day after it, not the 29th or yesterday', () => {
    expect(isDueForRenewal(yearly('2026-11-24'), today)).toBe(true);
    expect(isDueForRenewal(yearly('2026-12-22'), today)).toBe(true);
    expect(isDueForRenewal(yearly('2026-12-23'), today)).toBe(false);
    expect(isDueForRenewal(yearly('2026-11-23'), today)).toBe(false);
  });

  it('counts quarterly plans too, across a year end', () => {
    expect(isDueForRenewal(yearly('2027-01-01', { plan: 'quarterly' }), '2026-12-10')).toBe(true);
  });

  it('leaves out monthly plans and assets not active', () => {
    expect(isDueForRenewal(yearly(null, { plan: 'monthly' }), today)).toBe(false);
    expect(isDueForRenewal(yearly('2026-11-30', { status: 'deactivation_pending' }), today)).toBe(false);
  });

  it('counts an automatic renewal awaiting confirmation (DESIGN section 10, due=28d)', () => {
    expect(isDueForRenewal(yearly('2026-11-30', { renewalUnconfirmed: true }), today)).toBe(true);
  });

  it('shows a count above the bound as "1,000+"', () => {
    expect(boundedCountLabel(1000)).toBe('1,000');
    expect(boundedCountLabel(1001)).toBe('1,000+');
    expect(boundedCountLabel(0)).toBe('0');
  });
});

describe('moving a group', () => {
  it('refuses to put a group under itself', () => {
    expect(createsCycle('trucks', 'trucks', parentOf)).toBe(true);
  });

  it('refuses to put a group under its child or its grandchild', () => {
    expect(createsCycle('trucks', 'north', parentOf)).toBe(true);
    expect(createsCycle('trucks', 'hills', parentOf)).toBe(true);
    expect(createsCycle('north', 'hills', parentOf)).toBe(true);
  });

  it('allows a move beside or above, and to the top level', () => {
    expect(createsCycle('hills', 'south', parentOf)).toBe(false);
    expect(createsCycle('south', 'vans', parentOf)).toBe(false);
    expect(createsCycle('hills', 'trucks', parentOf)).toBe(false);
    expect(createsCycle('hills', null, parentOf)).toBe(false);
  });

  it('refuses rather than loops when the data already has a loop', () => {
    expect(
      createsCycle(
        'vans',
        'a',
        new Map([
          ['a', 'b'],
          ['b', 'a'],
        ]),
      ),
    ).toBe(true);
  });
});

describe('the group form', () => {
  it('trims the name and the reference and builds the path under the parent', () => {
    const { fields, errors } = checkGroupForm({
      name: '  North ',
      reference: ' ',
      parent_id: '',
      customer_id: '',
      enabled: true,
    });
    expect(errors).toEqual({});
    expect(fields).toMatchObject({ name: 'North', reference: null, parentId: null });
    expect(pathOf('Trucks', fields.name)).toBe('Trucks / North');
    expect(pathOf(null, 'Trucks')).toBe('Trucks');
  });

  it('asks for a name of 1 to 200 characters without the path separator, and a parent that is an id', () => {
    const form = { reference: 'x'.repeat(201), parent_id: 'nope', customer_id: '', enabled: true };
    expect(checkGroupForm({ ...form, name: ' ' }).errors).toEqual({
      name: 'Enter a name for the group.',
      reference: 'Use at most 200 characters.',
      parent_id: 'Choose a parent group from the list, or none.',
    });
    expect(checkGroupForm({ ...form, name: 'x'.repeat(201) }).errors.name).toBe('Use at most 200 characters.');
    expect(checkGroupForm({ ...form, name: 'x'.repeat(200) }).errors.name).toBeUndefined();
    expect(checkGroupForm({ ...form, name: 'A / B' }).errors.name).toContain('separates groups');
    expect(checkGroupForm({ ...form, name: 'North/South' }).errors.name).toBeUndefined();
  });

  it('reads the submitted users as a set of ids, and refuses anything else', () => {
    const id = '0b7f0c1e-8a51-4c39-9d2a-2b1f3f1c0a11';
    expect(submittedIds(undefined)).toEqual([]);
    expect(submittedIds(id)).toEqual([id]);
    expect(submittedIds([id, id.toUpperCase()])).toEqual([id]);
    expect(submittedIds([id, 'x'])).toBeNull();
    expect(submittedIds({ a: 1 })).toBeNull();
  });

  it('reads list state from a query string, falling back to the defaults', () => {
    expect(groupListQueryFrom({ tab: 'active', page: '2', size: '50' })).toEqual({ tab: 'active', page: 2, size: 50 });
    expect(groupListQueryFrom({ tab: 'other', page: '-1', size: '7' })).toEqual({ tab: 'all', page: 1, size: 25 });
  });
});
