import type { Db } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import { getBillingAccount, listLedger } from './accounts.js';
import { getNumberRange, listNumberBlocks } from './number-blocks.js';
import { listContacts, publicNotesOf } from '../people/index.js';
import { type Actor, asActor, authorize, can, customerIdsInReach } from '../access/index.js';

/** What the billing pages show at once: staff's Billing tab of a customer, and the customer's own /billing. */

/**
 * The customer's own view of their telecom account (/billing): balance, debit limit, channels in
 * use and the public notes of their contacts. Private notes are never selected here.
 * A company admin reaches their customer and its inner customers; `customerId` picks one of them.
 */
export async function customerBillingAccount(db: Db, actor: Actor, customerId?: string | null) {
  authorize(actor, 'billing.view');
  return asActor(db, actor, async (trx) => {
    const customers: { id: string; title: string }[] = await trx('customers')
      .where('tenant_id', actor.tenantId)
      .whereIn('id', customerIdsInReach(trx, actor))
      .orderByRaw('parent_id is not null, lower(title)')
      .select('id', 'title');
    const chosen =
      customers.find((c) => c.id === customerId) ?? customers.find((c) => c.id === actor.customerId) ?? customers[0];
    if (!chosen) throw new NotFoundError();
    const account = await getBillingAccount(trx, actor, chosen.id);
    return { ...account, customers, notes: await publicNotesOf(trx, actor, chosen.id) };
  });
}

/** Everything the staff Billing tab shows at once. */
export async function staffBillingOverview(db: Db, actor: Actor, customerId: string) {
  authorize(actor, 'billing.staff_view');
  return asActor(db, actor, async (trx) => {
    const account = await getBillingAccount(trx, actor, customerId);
    const id = account.customer.id;
    const [ledger, blocks, range, contacts] = [
      await listLedger(trx, actor, id),
      await listNumberBlocks(trx, actor, id),
      await getNumberRange(trx, actor),
      await listContacts(trx, actor, id),
    ];
    return {
      ...account,
      ledger,
      blocks,
      range,
      contacts,
      canManage: can(actor, 'billing.manage'),
      canManageContacts: can(actor, 'customer_user.manage'),
    };
  });
}
