import type { Trx } from '../../db/index.js';
import type { RecordError } from '../../errors.js';
import type { IngestKind } from '../integration/index.js';
import { deviceFieldProblems } from './rules.js';
import { english } from '../platform/i18n.js';
import { PLANS, type Plan } from './subscription-rules.js';
import { insertDevices, type NewDevice } from './staff-devices.js';

/**
 * Registering many devices from a CSV file, through the staff import (its preview, then its run with
 * a progress bar): each row is checked by the rules of the registration form (deviceFieldProblems,
 * the customer's groups, one registration per identifier) and written by the same insertDevices.
 */

type DeviceRecord = Record<string, unknown>;
const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

async function checkDevices(trx: Trx, tenantId: string, input: unknown[]) {
  const records = input.map((r) => (r && typeof r === 'object' ? (r as DeviceRecord) : {}));
  const accountIds = [...new Set(records.map((r) => text(r.account_id)).filter(Boolean))];
  const identifiers = [...new Set(records.map((r) => text(r.identifier)).filter(Boolean))];
  const customers = new Map<string, string>();
  for (const c of (await trx('customers')
    .where('tenant_id', tenantId)
    .whereRaw('account_id = any(?::text[])', [accountIds])
    .select('account_id', 'id')) as { account_id: string; id: string }[])
    customers.set(c.account_id, c.id);
  // the groups of the customers named, by customer and path as the lists show it (case aside)
  const groups = new Map<string, { id: string; path: string }>();
  const hasGroups = new Set<string>();
  for (const g of (await trx('groups')
    .where('tenant_id', tenantId)
    .whereRaw('customer_id = any(?::uuid[])', [[...customers.values()]])
    .select('id', 'customer_id', 'path')) as { id: string; customer_id: string; path: string }[]) {
    groups.set(`${g.customer_id}\n${g.path.toLowerCase()}`, { id: g.id, path: g.path });
    hasGroups.add(g.customer_id);
  }
  const taken = new Set<string>(
    await trx('assets')
      .where('tenant_id', tenantId)
      .whereRaw('identifier = any(?::text[])', [identifiers])
      .pluck('identifier'),
  );
  const inFile = new Set<string>();
  const errors: RecordError[] = [];
  const devices: NewDevice[] = [];
  records.forEach((r, index) => {
    const fail = (field: string, message: string) => errors.push({ index, field, message });
    const identifier = text(r.identifier);
    const name = text(r.name);
    const before = errors.length;
    for (const [field, message] of Object.entries(deviceFieldProblems(identifier, name)))
      fail(field, english.t(message));
    if (!errors.some((e) => e.index === index && e.field === 'identifier')) {
      if (taken.has(identifier)) fail('identifier', 'is registered already');
      else if (inFile.has(identifier)) fail('identifier', 'comes twice in the file');
    }
    inFile.add(identifier);
    const plan = (text(r.plan).toLowerCase() || 'monthly') as Plan;
    if (!PLANS.includes(plan)) fail('plan', 'must be monthly, quarterly or yearly');
    const customerId = customers.get(text(r.account_id));
    if (!customerId) return fail('account_id', 'names no customer of yours');
    const groupPath = text(r.group);
    const group = groups.get(`${customerId}\n${groupPath.toLowerCase()}`);
    if (!group && (groupPath || hasGroups.has(customerId)))
      fail('group', 'names no group of this customer (write its path as the lists show it, like Trucks / North)');
    if (errors.length > before) return;
    devices.push({ customerId, groupId: group?.id ?? null, groupPath: group?.path ?? '', identifier, name, plan });
  });
  return { records: devices, errors: errors.slice(0, 1000) };
}

export const deviceImportKind: IngestKind<never, NewDevice> = {
  name: 'devices',
  validate: checkDevices,
  write: async (trx, tenantId, devices) =>
    (await insertDevices(trx, { system: 'Device import (CSV)', tenantId }, devices)).length,
};
