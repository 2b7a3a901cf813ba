import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/index.js';
import { hashPassword } from '../../src/services/passwords.js';
import type { Role } from '../../src/services/policy.js';

const unique = () => randomBytes(4).toString('hex');
let demoHash: Promise<string> | undefined;
export const TEST_PASSWORD = 'correct horse battery';
const passwordHash = () => (demoHash ??= hashPassword(TEST_PASSWORD));

export async function makeTenant(db: Db, fields: { name?: string } = {}) {
  const [row] = await db('tenants').insert({ name: fields.name ?? `Tenant ${unique()}` }).returning(['id', 'name']);
  return row as { id: string; name: string };
}

export async function makeCustomer(db: Db, tenantId: string, fields: Partial<{ title: string; account_id: string; parent_id: string; status: string }> = {}) {
  const [row] = await db('customers')
    .insert({ tenant_id: tenantId, title: `Customer ${unique()}`, account_id: `AC-${unique()}`, ...fields })
    .returning(['id', 'title', 'account_id', 'tenant_id']);
  return row as { id: string; title: string; account_id: string; tenant_id: string };
}

export async function makePartner(db: Db, tenantId: string, fields: { name?: string } = {}) {
  const [row] = await db('partners').insert({ tenant_id: tenantId, name: fields.name ?? `Partner ${unique()}` }).returning(['id', 'name']);
  return row as { id: string; name: string };
}

/** A user with one membership; active and with TEST_PASSWORD unless told otherwise. */
export async function makeUser(
  db: Db,
  membership: { tenantId: string; role: Role; customerId?: string; partnerId?: string },
  fields: Partial<{ email: string; name: string; status: 'pending' | 'active' | 'disabled'; password_hash: string | null }> = {},
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
  return { ...(user as { id: string; email: string; name: string; status: string }), membershipId: (m as { id: string }).id, password: TEST_PASSWORD };
}
