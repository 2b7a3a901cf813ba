import type { Trx } from '../db/index.js';
import type { Actor } from './policy.js';

export type AuditEntry = {
  entityType: 'customer' | 'user' | 'membership' | 'tenant' | string;
  entityId: string;
  action: string;
  /** the customer the change belongs to, so it shows in that customer's audit log */
  customerId?: string | null;
  before?: unknown;
  after?: unknown;
};

/** Records a change in the same transaction as the change itself. Never pass secrets in before/after. */
export async function audit(trx: Trx, actor: Actor | { system: string; tenantId: string }, entry: AuditEntry): Promise<void> {
  const who = 'system' in actor ? { actor_user_id: null, actor_label: actor.system } : { actor_user_id: actor.userId, actor_label: `${actor.name} <${actor.email}>` };
  await trx('audit_log').insert({
    tenant_id: actor.tenantId,
    ...who,
    customer_id: entry.customerId ?? null,
    entity_type: entry.entityType,
    entity_id: entry.entityId,
    action: entry.action,
    before: entry.before === undefined ? null : JSON.stringify(entry.before),
    after: entry.after === undefined ? null : JSON.stringify(entry.after),
  });
}

export type JsonDiff = { field: string; before: unknown; after: unknown }[];

/** The fields that differ between two snapshots, for "view difference". */
export function diffSnapshots(before: unknown, after: unknown): JsonDiff {
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => ({ field: k, before: a[k] ?? null, after: b[k] ?? null }));
}
