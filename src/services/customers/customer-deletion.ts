import type { Db, Trx } from '../../db/index.js';
import { ConflictError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { confirmsTitle, MESSAGES, snapshotOf } from './rules.js';
import { isMessage, msg, type Msg } from '../platform/i18n.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { endSessionsOfUser } from '../people/index.js';
import { findCustomerInReach, type Customer } from './customers.js';

/** Deleting a customer: what blocks it, what it would take with it, and the deletion itself. */

/**
 * Why a customer cannot be deleted right now, in words for the admin; empty when it can.
 * Every rule that blocks deletion (inner customers, active assets) belongs here.
 */
export async function deletionBlockers(trx: Trx, customer: Pick<Customer, 'id' | 'tenant_id'>): Promise<Msg[]> {
  const reasons: Msg[] = [];
  const [inner] = await trx('customers')
    .where({ tenant_id: customer.tenant_id, parent_id: customer.id })
    .count<{ count: number }[]>({ count: '*' });
  const innerCount = Number(inner?.count ?? 0);
  if (innerCount)
    reasons.push(
      msg(
        'It has {count, plural, one {# inner customer} other {# inner customers}}. Delete or move its inner customers first.',
        { count: innerCount },
      ),
    );
  // from the kept counters, never a count over the customer's assets
  const [live] = await trx('asset_counts')
    .where({ tenant_id: customer.tenant_id, customer_id: customer.id })
    .whereIn('status', ['active', 'deactivation_pending'])
    .sum<{ n: number | null }[]>({ n: 'n' });
  const liveCount = Number(live?.n ?? 0);
  if (liveCount)
    reasons.push(
      msg(
        'It still has {count, plural, one {# active asset} other {# active assets}} (active or waiting for deactivation); deactivate them first.',
        { count: liveCount },
      ),
    );
  return reasons;
}

export type DeletionPreview = { customer: Customer; blockers: Msg[]; userCount: number; usersToDisable: number };

/** What deleting a customer would take with it, for the confirmation page. */
export async function deletionPreview(db: Db, actor: Actor, id: string): Promise<DeletionPreview> {
  authorize(actor, 'customer.manage');
  return asActor(db, actor, async (trx) => {
    const customer = await findCustomerInReach(trx, actor, id);
    const userIds = await membersOf(trx, customer);
    return {
      customer,
      blockers: await deletionBlockers(trx, customer),
      userCount: userIds.length,
      usersToDisable: (await usersLeftWithoutAccess(trx, customer, userIds)).length,
    };
  });
}

async function membersOf(trx: Trx, customer: Pick<Customer, 'id' | 'tenant_id'>): Promise<string[]> {
  return trx('memberships')
    .where({ tenant_id: customer.tenant_id, customer_id: customer.id })
    .distinct()
    .pluck('user_id');
}

/** Of these users, those with no membership anywhere (any tenant) once this customer's are gone. */
async function usersLeftWithoutAccess(
  trx: Trx,
  customer: Pick<Customer, 'id' | 'tenant_id'>,
  userIds: string[],
): Promise<string[]> {
  if (!userIds.length) return [];
  const { rows } = await trx.raw<{ rows: { id: string }[] }>(
    'select id from user_ids_without_other_membership(?::uuid[], ?, ?) as id',
    [userIds, customer.tenant_id, customer.id],
  );
  return rows.map((r) => r.id);
}

/**
 * Deletes a customer for good, once its title is typed. Its memberships go with it (foreign key
 * cascade); its audit log stays (no foreign key) and gains a last entry. Users left with no
 * membership at all are disabled and signed out, so nobody keeps a login into nothing.
 */
export async function deleteCustomer(
  db: Db,
  actor: Actor,
  id: string,
  typedTitle: unknown,
): Promise<{ title: string; disabledUsers: number }> {
  authorize(actor, 'customer.manage');
  return asActor(db, actor, async (trx) => {
    const customer = await findCustomerInReach(trx, actor, id, { forUpdate: true });
    const blockers = await deletionBlockers(trx, customer);
    // the first reason: the page that refused shows them all (a race between the page and this answer)
    const [blocker] = blockers;
    if (blocker)
      throw isMessage(blocker) ? new ConflictError(blocker.id).withValues(blocker.values) : new ConflictError(blocker);
    if (!confirmsTitle(typedTitle, customer.title)) throw new ValidationError({ confirm_title: MESSAGES.confirmTitle });

    const memberships: { id: string; user_id: string; role: string; email: string }[] = await trx('memberships as m')
      .join('users as u', 'u.id', 'm.user_id')
      .where({ 'm.tenant_id': customer.tenant_id, 'm.customer_id': customer.id })
      .select('m.id', 'm.user_id', 'm.role', 'u.email');
    const orphans = await usersLeftWithoutAccess(trx, customer, [...new Set(memberships.map((m) => m.user_id))]);
    await deleteAssetsAndGroups(trx, customer);
    await trx('customers').where({ tenant_id: customer.tenant_id, id: customer.id }).del();

    const inLog = { customerId: customer.id };
    for (const m of memberships) {
      await audit(trx, actor, {
        ...inLog,
        entityType: 'membership',
        entityId: m.id,
        action: 'membership.deleted',
        before: { user_id: m.user_id, email: m.email, role: m.role, customer_id: customer.id },
      });
    }
    const disabled: { id: string; email: string; status: string }[] = orphans.length
      ? await trx('users')
          .whereIn('id', orphans)
          .whereNot({ status: 'disabled' })
          .forUpdate()
          .select('id', 'email', 'status')
      : [];
    for (const user of disabled) {
      await trx('users').where({ id: user.id }).update({ status: 'disabled', updated_at: trx.fn.now() });
      await endSessionsOfUser(trx, user.id);
      await audit(trx, actor, {
        ...inLog,
        entityType: 'user',
        entityId: user.id,
        action: 'user.disabled',
        before: { email: user.email, status: user.status },
        after: { email: user.email, status: 'disabled' },
      });
    }
    await audit(trx, actor, {
      ...inLog,
      entityType: 'customer',
      entityId: customer.id,
      action: 'customer.deleted',
      before: snapshotOf(customer),
    });
    return { title: customer.title, disabledUsers: disabled.length };
  });
}

/**
 * What is left of a customer's assets once none is active: inactive assets (their requests go by
 * cascade), counters, groups.
 */
async function deleteAssetsAndGroups(trx: Trx, customer: Pick<Customer, 'id' | 'tenant_id'>): Promise<void> {
  const of = { tenant_id: customer.tenant_id, customer_id: customer.id };
  await trx('assets').where(of).del();
  await trx('asset_counts').where(of).del();
  await trx('membership_groups')
    .where({ tenant_id: customer.tenant_id })
    .whereIn('group_id', trx('groups').where(of).select('id'))
    .del();
  // parents and sub-groups in one statement: the parent key is checked at its end
  await trx('groups').where(of).del();
}
