import { describe, expect, it } from 'vitest';
import {
  activationKind,
  ASSET_STATUSES,
  availableActions,
  formatDay,
  groupDepths,
  groupOptionLabel,
  identifierProblem,
  refusalOf,
  type ActionSubject,
  type AssetAction,
  type AssetStatus,
  type RequestKind,
} from '../../src/services/assets/rules.js';
import { ROLES, type Role } from '../../src/services/access/roles.js';

/** The pending request each status implies, as the services keep them together. */
const PENDING_FOR: Record<AssetStatus, RequestKind[]> = {
  inactive: [],
  activation_pending: ['activation'],
  active: [],
  deactivation_pending: ['deactivation'],
  deactivated: [],
};

/** Every variant of an asset: each status, with and without a past term, with and without an unconfirmed renewal. */
const VARIANTS: { name: string; asset: ActionSubject }[] = ASSET_STATUSES.flatMap((status) =>
  [false, true].flatMap((hasPastTerm) =>
    [false, true].map((renewalUnconfirmed) => ({
      name:
        `${status}${hasPastTerm ? ', had a term' : ', never active'}` +
        `${renewalUnconfirmed ? ', renewal unconfirmed' : ''}`,
      asset: { status, hasPastTerm, renewalUnconfirmed },
    })),
  ),
);

/** What a company admin or group admin is offered, written out for each variant. */
function expectedForActingRole({ status, hasPastTerm, renewalUnconfirmed }: ActionSubject): AssetAction[] {
  switch (status) {
    case 'inactive':
      return [hasPastTerm ? 'reactivate' : 'activate', 'move'];
    case 'deactivated':
      return ['reactivate', 'move'];
    case 'activation_pending':
      return ['move'];
    case 'active':
      return renewalUnconfirmed
        ? ['confirm_renewal', 'request_deactivation', 'move']
        : ['request_deactivation', 'move'];
    case 'deactivation_pending':
      return renewalUnconfirmed ? ['confirm_renewal', 'cancel_deactivation', 'move'] : ['cancel_deactivation', 'move'];
  }
}

const ACTING: Role[] = ['company_admin', 'group_admin'];

/** What a tenant admin does directly on a customer's device, written out for each status. */
function expectedForStaff({ status }: ActionSubject): AssetAction[] {
  switch (status) {
    case 'inactive':
    case 'deactivated':
    case 'activation_pending':
      return ['activate_directly', 'move', 'edit'];
    case 'active':
    case 'deactivation_pending':
      return ['deactivate_directly', 'move', 'edit'];
  }
}

describe('the actions offered on an asset, over every status and role', () => {
  for (const role of ROLES) {
    for (const { name, asset } of VARIANTS) {
      const expected = ACTING.includes(role)
        ? expectedForActingRole(asset)
        : role === 'tenant_admin'
          ? expectedForStaff(asset)
          : [];
      const offered = expected.length ? expected.join(', ') : 'nothing';
      it(`offers a ${role.replace('_', ' ')} ${offered} on an asset that is ${name}`, () => {
        expect(availableActions(asset, role, PENDING_FOR[asset.status])).toEqual(expected);
      });
    }
  }

  it('never offers a group supervisor, a support agent or any read-only role an action', () => {
    for (const role of ['group_supervisor', 'support_agent', 'site_viewer', 'partner_viewer'] as Role[]) {
      for (const { asset } of VARIANTS) expect(availableActions(asset, role, PENDING_FOR[asset.status])).toEqual([]);
    }
  });

  it('does not offer a second deactivation while one is pending, whatever the status says', () => {
    const actions = availableActions(
      { status: 'active', hasPastTerm: true, renewalUnconfirmed: false },
      'company_admin',
      ['deactivation'],
    );
    expect(actions).not.toContain('request_deactivation');
  });

  it('does not offer activation again while an activation or reactivation waits', () => {
    expect(
      availableActions({ status: 'inactive', hasPastTerm: false, renewalUnconfirmed: false }, 'company_admin', [
        'activation',
      ]),
    ).toEqual(['move']);
    expect(
      availableActions({ status: 'deactivated', hasPastTerm: true, renewalUnconfirmed: false }, 'group_admin', [
        'reactivation',
      ]),
    ).toEqual(['move']);
  });

  it('offers cancelling only when a deactivation request is really pending', () => {
    expect(
      availableActions(
        { status: 'deactivation_pending', hasPastTerm: true, renewalUnconfirmed: false },
        'company_admin',
        [],
      ),
    ).toEqual(['move']);
  });
});

describe('activation or reactivation', () => {
  it('calls a first activation an activation, and any later one a reactivation', () => {
    expect(activationKind({ status: 'inactive', hasPastTerm: false })).toBe('activation');
    expect(activationKind({ status: 'inactive', hasPastTerm: true })).toBe('reactivation');
    expect(activationKind({ status: 'deactivated', hasPastTerm: true })).toBe('reactivation');
  });
});

describe('why an action is refused', () => {
  const pending: ActionSubject = { status: 'deactivation_pending', hasPastTerm: true, renewalUnconfirmed: false };

  it('names the date of the deactivation already pending', () => {
    expect(refusalOf('request_deactivation', pending, { deactivationOnLabel: '31 March 2027' })).toBe(
      'A deactivation of this asset is already pending: it takes effect on 31 March 2027.',
    );
  });

  it('says an asset that is not active cannot be deactivated, and what it is', () => {
    expect(
      refusalOf('request_deactivation', { status: 'deactivated', hasPastTerm: true, renewalUnconfirmed: false }),
    ).toBe('Only an active asset can be deactivated; this one is deactivated.');
  });

  it('says an activation is already waiting for approval', () => {
    expect(
      refusalOf('activate', { status: 'activation_pending', hasPastTerm: false, renewalUnconfirmed: false }),
    ).toMatch(/already waiting/);
  });
});

describe('device identifiers', () => {
  it('accepts IMEIs and serial numbers of 4 to 32 letters, digits or hyphens', () => {
    for (const ok of ['354800000000001', 'SN-12AB', 'abcd', 'A'.repeat(32)]) expect(identifierProblem(ok)).toBeNull();
  });

  it('asks for an identifier when none is given, and explains the shape otherwise', () => {
    expect(identifierProblem('')).toBe('Enter the device’s identifier (IMEI or serial number).');
    for (const bad of ['abc', 'A'.repeat(33), 'SN 12', 'SN_12', '<script>', 'ÄÖÜ1'])
      expect(identifierProblem(bad)).toBe(
        'Use 4 to 32 letters, digits or hyphens (-), like an IMEI or a serial number.',
      );
  });
});

describe('days and groups as the pages show them', () => {
  it('writes a day as "31 March 2027", the same in every time zone', () => {
    expect(formatDay('2027-03-31')).toBe('31 March 2027');
    expect(formatDay('2028-02-29')).toBe('29 February 2028');
    expect(formatDay(null)).toBe('');
  });

  it('indents sub-groups under their parent, and starts from the top of what the person reaches', () => {
    const depths = groupDepths([
      { id: 'trucks', parent_id: null },
      { id: 'north', parent_id: 'trucks' },
      { id: 'north-east', parent_id: 'north' },
      { id: 'depot', parent_id: 'not-reached' },
    ]);
    expect(Object.fromEntries(depths)).toEqual({ trucks: 0, north: 1, 'north-east': 2, depot: 0 });
    expect(groupOptionLabel('North', 1)).toBe('\u00a0\u00a0\u00a0North');
  });

  it('ends even when bad data makes groups each other’s parent', () => {
    const depths = groupDepths([
      { id: 'a', parent_id: 'b' },
      { id: 'b', parent_id: 'a' },
    ]);
    expect(depths.size).toBe(2);
  });
});
