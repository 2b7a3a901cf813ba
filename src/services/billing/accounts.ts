import type { Db, Trx } from '../../db/index.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import {
  BILLING_MODEL_LABELS,
  type BillingModel,
  checkDebitLimit,
  checkMovement,
  isBillingModel,
  isOverLimit,
  type MovementForm,
} from './rules.js';
import { noticeOverLimit } from './over-limit.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize, customerIdsInReach } from '../access/index.js';
import { channelsInUse } from './usage-records.js';
import { msg } from '../platform/index.js';

/**
 * A customer's telecom account: its balance and debit limit (integer minor units of the customer's
 * currency, bigint in PostgreSQL, read as integers: exact up to 2^53 minor units), moved only
 * through the ledger.
 */

export type AccountCustomer = {
  id: string;
  title: string;
  account_id: string;
  status: string;
  currency: string;
  balance_minor: number;
  debit_limit_minor: number;
  billing_model: BillingModel;
};
export type BillingAccount = {
  customer: AccountCustomer;
  channelsInUse: number;
  overLimit: boolean;
  billingModelLabel: string;
};
export type LedgerEntry = {
  id: number;
  kind: string;
  amount_minor: number;
  currency: string;
  balance_after_minor: number;
  debit_limit_after_minor: number;
  reference: string | null;
  created_at: Date;
  created_by_name: string | null;
};

const ACCOUNT_COLUMNS = [
  'id',
  'title',
  'account_id',
  'status',
  'currency',
  'balance_minor',
  'debit_limit_minor',
  'billing_model',
];
export const LEDGER_PAGE_SIZE = 50;

/** The customer's account row if the actor reaches the customer; locked when it is about to move. */
export async function findAccount(trx: Trx, actor: Actor, customerId: string, lock = false): Promise<AccountCustomer> {
  if (!isUuid(customerId)) throw new NotFoundError();
  const q = trx('customers')
    .where({ tenant_id: actor.tenantId, id: customerId })
    .whereIn('id', customerIdsInReach(trx, actor))
    .first<AccountCustomer | undefined>(ACCOUNT_COLUMNS);
  if (lock) q.forUpdate();
  const customer = await q;
  if (!customer) throw new NotFoundError();
  return customer;
}

/** Balance, debit limit and channels in use: what both the staff tab and the customer's /billing show. */
export async function getBillingAccount(trx: Trx, actor: Actor, customerId: string): Promise<BillingAccount> {
  const customer = await findAccount(trx, actor, customerId);
  return {
    customer,
    channelsInUse: await channelsInUse(trx, actor.tenantId, customer.id),
    overLimit: isOverLimit(customer),
    billingModelLabel: BILLING_MODEL_LABELS[customer.billing_model],
  };
}

export async function listLedger(
  trx: Trx,
  actor: Actor,
  customerId: string,
  limit = LEDGER_PAGE_SIZE,
): Promise<LedgerEntry[]> {
  return trx('billing_ledger as l')
    .leftJoin('users as u', 'u.id', 'l.created_by')
    .where({ 'l.tenant_id': actor.tenantId, 'l.customer_id': customerId })
    .orderBy('l.id', 'desc')
    .limit(limit)
    .select(
      'l.id',
      'l.kind',
      'l.amount_minor',
      'l.currency',
      'l.balance_after_minor',
      'l.debit_limit_after_minor',
      'l.reference',
      'l.created_at',
      'u.name as created_by_name',
    );
}

export type LedgerMovement = {
  kind: 'payment' | 'credit_note' | 'invoice' | 'adjustment';
  amountMinor: bigint;
  reference: string | null;
};

/**
 * Moves a balance by one ledger row, in the caller's transaction: the customer row is locked first,
 * so concurrent movements queue behind each other and none is lost; the balance stays the sum of
 * its movements. Positive amounts credit the account (payments, credit notes), negative ones
 * debit it (invoices). The one writer of balances, for the invoices of the other billing pages too.
 */
export async function postLedgerMovement(
  trx: Trx,
  actor: Actor,
  customerId: string,
  movement: LedgerMovement,
): Promise<{ before: AccountCustomer; after: AccountCustomer; entryId: number }> {
  const before = await findAccount(trx, actor, customerId, true);
  const [after] = await trx('customers')
    .where({ tenant_id: actor.tenantId, id: before.id })
    .update({
      balance_minor: trx.raw('balance_minor + ?::bigint', [movement.amountMinor.toString()]),
      updated_at: trx.fn.now(),
    })
    .returning<AccountCustomer[]>(ACCOUNT_COLUMNS);
  const [entry] = await trx('billing_ledger')
    .insert({
      tenant_id: actor.tenantId,
      customer_id: before.id,
      kind: movement.kind,
      amount_minor: movement.amountMinor.toString(),
      currency: before.currency,
      balance_after_minor: after!.balance_minor,
      debit_limit_after_minor: after!.debit_limit_minor,
      reference: movement.reference,
      created_by: actor.userId,
    })
    .returning<{ id: number }[]>('id');
  await audit(trx, actor, {
    entityType: 'customer',
    entityId: before.id,
    action: `billing.${movement.kind}_recorded`,
    customerId: before.id,
    before: { balance_minor: before.balance_minor, currency: before.currency },
    after: {
      balance_minor: after!.balance_minor,
      currency: before.currency,
      amount_minor: Number(movement.amountMinor),
      reference: movement.reference,
      ledger_entry: entry!.id,
    },
  });
  await noticeOverLimit(trx, actor.tenantId, [before.id]);
  return { before, after: after!, entryId: entry!.id };
}

/** Staff record a payment or a credit note; the form's messages come back as a ValidationError. */
export async function recordMovement(
  db: Db,
  actor: Actor,
  customerId: string,
  form: MovementForm,
): Promise<{ account: AccountCustomer; amountMinor: bigint; kind: string }> {
  authorize(actor, 'billing.manage');
  return asActor(db, actor, async (trx) => {
    const account = await findAccount(trx, actor, customerId);
    const { value, errors } = checkMovement(form, account.currency);
    if (!value) throw new ValidationError(errors);
    const { after } = await postLedgerMovement(trx, actor, customerId, value);
    return { account: after, amountMinor: value.amountMinor, kind: value.kind };
  });
}

/** A new debit limit: a ledger row of amount 0 (the account's history in one list) and an audit entry. */
export async function changeDebitLimit(
  db: Db,
  actor: Actor,
  customerId: string,
  text: string,
): Promise<AccountCustomer> {
  authorize(actor, 'billing.manage');
  return asActor(db, actor, async (trx) => {
    const before = await findAccount(trx, actor, customerId, true);
    const { value, errors } = checkDebitLimit(text, before.currency);
    if (value === undefined) throw new ValidationError(errors);
    if (BigInt(before.debit_limit_minor) === value) return before;
    const [after] = await trx('customers')
      .where({ tenant_id: actor.tenantId, id: before.id })
      .update({ debit_limit_minor: value.toString(), updated_at: trx.fn.now() })
      .returning<AccountCustomer[]>(ACCOUNT_COLUMNS);
    await trx('billing_ledger').insert({
      tenant_id: actor.tenantId,
      customer_id: before.id,
      kind: 'debit_limit',
      amount_minor: 0,
      currency: before.currency,
      balance_after_minor: after!.balance_minor,
      debit_limit_after_minor: after!.debit_limit_minor,
      created_by: actor.userId,
    });
    await audit(trx, actor, {
      entityType: 'customer',
      entityId: before.id,
      action: 'billing.debit_limit_changed',
      customerId: before.id,
      before: { debit_limit_minor: before.debit_limit_minor, currency: before.currency },
      after: { debit_limit_minor: after!.debit_limit_minor, currency: before.currency },
    });
    await noticeOverLimit(trx, actor.tenantId, [before.id]);
    return after!;
  });
}

/**
 * Staff choose how the customer pays (BILLING_MODELS). The choice applies from now on: usage that
 * arrives or is re-priced while prepaid moves the balance, invoices issued while postpaid do; what
 * was posted before stays in the ledger.
 */
export async function setBillingModel(
  db: Db,
  actor: Actor,
  customerId: string,
  model: unknown,
): Promise<AccountCustomer> {
  authorize(actor, 'billing.manage');
  return asActor(db, actor, async (trx) => {
    const before = await findAccount(trx, actor, customerId, true);
    if (!isBillingModel(model)) throw new ValidationError({ billingModel: msg('Choose prepaid or postpaid.') });
    if (before.billing_model === model) return before;
    const [after] = await trx('customers')
      .where({ tenant_id: actor.tenantId, id: before.id })
      .update({ billing_model: model, updated_at: trx.fn.now() })
      .returning<AccountCustomer[]>(ACCOUNT_COLUMNS);
    await audit(trx, actor, {
      entityType: 'customer',
      entityId: before.id,
      action: 'billing.model_changed',
      customerId: before.id,
      before: { billing_model: before.billing_model },
      after: { billing_model: model },
    });
    return after!;
  });
}
