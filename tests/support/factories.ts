import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/index.js';
import { hashPassword } from '../../src/services/people/passwords.js';
import { hashToken } from '../../src/services/platform/tokens.js';
import type { Role } from '../../src/services/access/index.js';
import { insertUsageRecords, type NewUsageRecord } from '../../src/services/billing/usage-records.js';

const unique = () => randomBytes(4).toString('hex');
let demoHash: Promise<string> | undefined;
export const TEST_PASSWORD = 'correct horse battery';
const passwordHash = () => (demoHash ??= hashPassword(TEST_PASSWORD));

export async function makeTenant(db: Db, fields: { name?: string } = {}) {
  const [row] = await db('tenants')
    .insert({ name: fields.name ?? `Tenant ${unique()}` })
    .returning(['id', 'name']);
  return row as { id: string; name: string };
}

export async function makeCustomer(
  db: Db,
  tenantId: string,
  fields: Partial<{ title: string; account_id: string; parent_id: string; status: string }> = {},
) {
  const [row] = await db('customers')
    .insert({ tenant_id: tenantId, title: `Customer ${unique()}`, account_id: `AC-${unique()}`, ...fields })
    .returning(['id', 'title', 'account_id', 'tenant_id']);
  return row as { id: string; title: string; account_id: string; tenant_id: string };
}

export async function makePartner(db: Db, tenantId: string, fields: { name?: string } = {}) {
  const [row] = await db('partners')
    .insert({ tenant_id: tenantId, name: fields.name ?? `Partner ${unique()}` })
    .returning(['id', 'name']);
  return row as { id: string; name: string };
}

/** A user with one membership; active and with TEST_PASSWORD unless told otherwise. */
export async function makeUser(
  db: Db,
  membership: { tenantId: string; role: Role; customerId?: string; partnerId?: string },
  fields: Partial<{
    email: string;
    name: string;
    status: 'pending' | 'active' | 'disabled';
    password_hash: string | null;
  }> = {},
) {
  const [user] = await db('users')
    .insert({
      email: `user-${unique()}@example.test`,
      name: 'Test User',
      status: 'active',
      password_hash: fields.password_hash === undefined ? await passwordHash() : fields.password_hash,
      ...fields,
    })
    .returning(['id', 'email', 'name', 'status']);
  const [m] = await db('memberships')
    .insert({
      tenant_id: membership.tenantId,
      user_id: (user as { id: string }).id,
      role: membership.role,
      customer_id: membership.customerId ?? null,
      partner_id: membership.partnerId ?? null,
    })
    .returning(['id']);
  return {
    ...(user as { id: string; email: string; name: string; status: string }),
    membershipId: (m as { id: string }).id,
    password: TEST_PASSWORD,
  };
}

/** A deployment operator: a login with no membership; active and with TEST_PASSWORD unless told otherwise. */
export async function makeOperator(
  db: Db,
  fields: Partial<{ email: string; name: string; status: 'pending' | 'active' | 'disabled' }> = {},
) {
  const [user] = await db('users')
    .insert({
      email: `operator-${unique()}@example.test`,
      name: 'Test Operator',
      status: 'active',
      password_hash: await passwordHash(),
      ...fields,
    })
    .returning(['id', 'email', 'name', 'status']);
  const op = user as { id: string; email: string; name: string; status: string };
  await db('operators').insert({ user_id: op.id });
  return { ...op, password: TEST_PASSWORD };
}

/** A group of a customer; a sub-group when `parent` is given (its path continues the parent's). */
export async function makeGroup(
  db: Db,
  customer: { id: string; tenant_id: string },
  fields: Partial<{ name: string; parent: { id: string; path: string }; reference: string }> = {},
) {
  const name = fields.name ?? `Group ${unique()}`;
  const [row] = await db('groups')
    .insert({
      tenant_id: customer.tenant_id,
      customer_id: customer.id,
      parent_id: fields.parent?.id ?? null,
      name,
      path: fields.parent ? `${fields.parent.path} / ${name}` : name,
      reference: fields.reference ?? null,
    })
    .returning(['id', 'tenant_id', 'customer_id', 'name', 'path']);
  return row as { id: string; tenant_id: string; customer_id: string; name: string; path: string };
}

export type AssetFields = Partial<{
  identifier: string;
  name: string;
  status: 'inactive' | 'activation_pending' | 'active' | 'deactivation_pending' | 'deactivated';
  plan: 'monthly' | 'quarterly' | 'yearly';
  term_start: string | null;
  term_end: string | null;
  next_renewal_on: string | null;
  renewal_unconfirmed: boolean;
  last_latitude: number | null;
  last_longitude: number | null;
  last_located_at: Date | null;
}>;

/** An asset of the group's customer (or of a customer, without a group); group_path copied from the group. */
export async function makeAsset(
  db: Db,
  where:
    | { group: { id: string; tenant_id: string; customer_id: string; path: string } }
    | { customer: { id: string; tenant_id: string } },
  fields: AssetFields = {},
) {
  const owner =
    'group' in where
      ? {
          tenant_id: where.group.tenant_id,
          customer_id: where.group.customer_id,
          group_id: where.group.id,
          group_path: where.group.path,
        }
      : { tenant_id: where.customer.tenant_id, customer_id: where.customer.id, group_id: null, group_path: '' };
  const [row] = await db('assets')
    .insert({
      ...owner,
      identifier: `35${String(parseInt(unique(), 16)).padStart(13, '0')}`,
      name: `Asset ${unique()}`,
      status: 'active',
      ...fields,
    })
    .returning(['id', 'tenant_id', 'customer_id', 'group_id', 'group_path', 'identifier', 'name', 'status']);
  return row as {
    id: string;
    tenant_id: string;
    customer_id: string;
    group_id: string | null;
    group_path: string;
    identifier: string;
    name: string;
    status: string;
  };
}

/**
 * `count` usage records of a customer (voice unless told), one a minute back from `from`, through the
 * service that all writers use.
 */
export async function makeUsageRecords(
  db: Db,
  customer: { id: string; tenant_id: string },
  count: number,
  fields: Partial<NewUsageRecord> & { from?: Date } = {},
) {
  const from = fields.from ?? new Date();
  const records: NewUsageRecord[] = Array.from({ length: count }, (_, i) => ({
    customerId: customer.id,
    product: 'voice',
    direction: 'outbound',
    status: 'answered',
    fromNumber: '+447700900123',
    toNumber: `+4420794600${String(i % 100).padStart(2, '0')}`,
    durationSeconds: 60,
    ...fields,
    occurredAt: new Date(from.getTime() - i * 60_000),
  }));
  return db.transaction((trx) => insertUsageRecords(trx, customer.tenant_id, records));
}

/**
 * An API key of the tenant (every scope unless told; revoked when asked); returns the secret an
 * integration would send.
 */
export async function makeApiKey(
  db: Db,
  tenantId: string,
  fields: { name?: string; revoked?: boolean; scopes?: string[] } = {},
) {
  const secret = `pk_${randomBytes(32).toString('base64url')}`;
  await db('api_keys').insert({
    tenant_id: tenantId,
    name: fields.name ?? `Key ${unique()}`,
    key_hash: hashToken(secret),
    key_prefix: secret.slice(0, 10),
    created_by_label: 'Test',
    revoked_at: fields.revoked ? new Date() : null,
    ...(fields.scopes ? { scopes: fields.scopes } : {}),
  });
  return secret;
}

/** A site of a customer (or unattached), with a small square geofence around `centre` ([longitude, latitude]). */
export async function makeSite(
  db: Db,
  tenantId: string,
  fields: Partial<{ name: string; customerId: string | null; centre: [number, number] }> = {},
) {
  const [lng, lat] = fields.centre ?? [-2.24, 53.48];
  const d = 0.0005;
  const ring = [
    [lng - d, lat - d],
    [lng + d, lat - d],
    [lng + d, lat + d],
    [lng - d, lat + d],
    [lng - d, lat - d],
  ];
  const [row] = await db('sites')
    .insert({
      tenant_id: tenantId,
      customer_id: fields.customerId ?? null,
      name: fields.name ?? `Site ${unique()}`,
      geofence: JSON.stringify({ type: 'Polygon', coordinates: [ring] }),
      min_latitude: lat - d,
      min_longitude: lng - d,
      max_latitude: lat + d,
      max_longitude: lng + d,
    })
    .returning(['id', 'tenant_id', 'customer_id', 'name']);
  return row as { id: string; tenant_id: string; customer_id: string | null; name: string };
}

/** A service visit at a site: completed, by 'TEST 1', unless told otherwise. */
export async function makeServiceVisit(
  db: Db,
  site: { id: string; tenant_id: string },
  fields: {
    startedAt: string | Date;
    endedAt: string | Date;
    completed?: boolean;
    serviceId?: string | null;
    vehicle?: string;
  },
) {
  const [row] = await db('service_visits')
    .insert({
      tenant_id: site.tenant_id,
      site_id: site.id,
      service_id: fields.serviceId ?? null,
      vehicle: fields.vehicle ?? 'TEST 1',
      started_at: new Date(fields.startedAt),
      ended_at: new Date(fields.endedAt),
      completed: fields.completed ?? true,
      source: 'staff',
    })
    .returning(['id']);
  return row as { id: string };
}
