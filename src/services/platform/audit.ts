import type { Knex } from 'knex';
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
  actor: Pick<Actor, 'userId' | 'name' | 'email' | 'tenantId'> | { system: string; tenantId: string },
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

/**
 * Records many changes of one kind by one actor in one statement (bulk actions on thousands of
 * assets), in the same transaction as the changes; each entry is the row audit() would write.
 */
export async function auditMany(
  trx: Trx,
  actor: Actor,
  action: string,
  entries: Omit<AuditEntry, 'action'>[],
): Promise<void> {
  if (!entries.length) return;
  await trx.raw(
    `insert into audit_log
       (tenant_id, actor_user_id, actor_label, customer_id, entity_type, entity_id, action, before, after)
     select ?, ?, ?, e.customer_id, e.entity_type, e.entity_id, ?, e.before, e.after
       from unnest(?::uuid[], ?::text[], ?::text[], ?::jsonb[], ?::jsonb[])
            as e(customer_id, entity_type, entity_id, before, after)`,
    // arrays for unnest(): knex's typing knows no arrays of nullable values; pg sends them as they are
    [
      actor.tenantId,
      actor.userId,
      `${actor.name} <${actor.email}>`,
      action,
      entries.map((e) => e.customerId ?? null),
      entries.map((e) => e.entityType),
      entries.map((e) => e.entityId),
      entries.map((e) => (e.before === undefined ? null : JSON.stringify(e.before))),
      entries.map((e) => (e.after === undefined ? null : JSON.stringify(e.after))),
    ] as Knex.RawBinding[],
  );
}
