import type { Trx } from '../../db/index.js';
import type { Actor } from '../access/index.js';

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
export async function audit(
  trx: Trx,
  actor: Actor | { system: string; tenantId: string },
  entry: AuditEntry,
): Promise<void> {
  const who =
    'system' in actor
      ? { actor_user_id: null, actor_label: actor.system }
      : { actor_user_id: actor.userId, actor_label: `${actor.name} <${actor.email}>` };
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
