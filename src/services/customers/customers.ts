import type { Db, Trx } from '../../db/index.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { formatDateTime } from '../platform/time-format.js';
import {
  checkCustomerForm,
  differenceOf,
  escapeLike,
  isUuid,
  listQueryFrom,
  MESSAGES,
  snapshotOf,
  type CustomerFields,
  type CustomerForm,
  type ListQuery,
} from './rules.js';
import { type Actor, asActor, authorize, customerIdsInReach } from '../access/index.js';

/** The provider staff's administration of their customers: list, view, create and edit. */

export type Customer = CustomerFields & { id: string; tenant_id: string; created_at: Date; updated_at: Date };
export type CustomerSummary = { id: string; title: string; account_id: string; status: string };
export type CustomerListRow = CustomerSummary & { parent_title: string | null; user_count: number };
export type CustomerList = ListQuery & { rows: CustomerListRow[]; total: number; pageCount: number; hasMore: boolean };

const COLUMNS = [
  'id',
  'tenant_id',
  'title',
  'account_id',
  'contact_name',
  'email',
  'phone',
  'address',
  'parent_id',
  'home_page',
  'status',
  'created_at',
  'updated_at',
];

/** The tenant's customers (as far as the actor reaches), searched by title or account ID, a page at a time. */
export async function listCustomers(db: Db, actor: Actor, query: Partial<ListQuery>): Promise<CustomerList> {
  authorize(actor, 'customer.list');
  const { q, page, size } = listQueryFrom(query);
  return asActor(db, actor, async (trx) => {
    const matching = () => {
      const b = trx('customers as c')
        .where('c.tenant_id', actor.tenantId)
        .whereIn('c.id', customerIdsInReach(trx, actor));
      if (q) {
        const pattern = `%${escapeLike(q)}%`;
        b.where((w) => w.whereILike('c.title', pattern).orWhereILike('c.account_id', pattern));
      }
      return b;
    };
    const [counted] = await matching().count<{ count: number }[]>({ count: '*' });
    const total = Number(counted?.count ?? 0);
    const pageCount = Math.max(1, Math.ceil(total / size));
    const current = Math.min(page, pageCount); // a bookmarked page past the end shows the last one
    const rows: CustomerListRow[] = await matching()
      .leftJoin('customers as p', function () {
        this.on('p.tenant_id', 'c.tenant_id').andOn('p.id', 'c.parent_id');
      })
      .select('c.id', 'c.title', 'c.account_id', 'c.status', 'p.title as parent_title')
      .select(
        trx.raw(
          `(select count(distinct m.user_id)::int from memberships m
             where m.tenant_id = c.tenant_id and m.customer_id = c.id) as user_count`,
        ),
      )
      .orderBy([{ column: 'c.title' }, { column: 'c.id' }])
      .limit(size)
      .offset((current - 1) * size);
    return { q, page: current, size, rows, total, pageCount, hasMore: current < pageCount };
  });
}

/** The customer if the actor reaches it (404 otherwise); locked for the rest of the transaction when asked. */
export async function findCustomerInReach(
  trx: Trx,
  actor: Actor,
  id: unknown,
  opts: { forUpdate?: boolean } = {},
): Promise<Customer> {
  if (!isUuid(id)) throw new NotFoundError();
  const q = trx('customers')
    .where({ tenant_id: actor.tenantId, id })
    .whereIn('id', customerIdsInReach(trx, actor))
    .first<Customer | undefined>(COLUMNS);
  if (opts.forUpdate) q.forUpdate();
  const customer = await q;
  if (!customer) throw new NotFoundError();
  return customer;
}

export type CustomerDetail = {
  customer: Customer;
  parent: CustomerSummary | null;
  innerCustomers: CustomerSummary[];
  createdAtLabel: string;
  updatedAtLabel: string;
};

/** One customer with its parent and its inner customers; 404 outside the actor's reach. */
export async function getCustomer(db: Db, actor: Actor, id: string): Promise<CustomerDetail> {
  authorize(actor, 'customer.view');
  return asActor(db, actor, async (trx) => {
    const customer = await findCustomerInReach(trx, actor, id);
    const summary = ['id', 'title', 'account_id', 'status'];
    const parent = customer.parent_id
      ? ((await trx('customers')
          .where({ tenant_id: actor.tenantId, id: customer.parent_id })
          .first<CustomerSummary | undefined>(summary)) ?? null)
      : null;
    const innerCustomers: CustomerSummary[] = await trx('customers')
      .where({ tenant_id: actor.tenantId, parent_id: customer.id })
      .orderBy([{ column: 'title' }, { column: 'id' }])
      .select(summary);
    const when = (d: Date) => formatDateTime(d, actor.timeZone);
    return {
      customer,
      parent,
      innerCustomers,
      createdAtLabel: when(customer.created_at),
      updatedAtLabel: when(customer.updated_at),
    };
  });
}

/**
 * The customers that may become the parent of `customerId` (all in reach for a new customer; for an
 * existing one, all but itself and its descendants). A select list: fine for hundreds of customers.
 */
export async function parentChoices(db: Db, actor: Actor, customerId?: string): Promise<CustomerSummary[]> {
  authorize(actor, 'customer.manage');
  return asActor(db, actor, async (trx) => {
    const q = trx('customers').where({ tenant_id: actor.tenantId }).whereIn('id', customerIdsInReach(trx, actor));
    if (customerId && isUuid(customerId)) q.whereNotIn('id', customerTree(trx, actor, customerId));
    return q.orderBy([{ column: 'title' }, { column: 'id' }]).select('id', 'title', 'account_id', 'status');
  });
}

/** Ids of a customer and everything under it; UNION (not ALL) so even a cycle in bad data ends. */
function customerTree(trx: Trx, actor: Actor, rootId: string) {
  return trx
    .withRecursive('tree', (q) => {
      q.select('id')
        .from('customers')
        .where({ tenant_id: actor.tenantId, id: rootId })
        .union((u) =>
          u
            .select('c.id')
            .from('customers as c')
            .join('tree as t', 'c.parent_id', 't.id')
            .where('c.tenant_id', actor.tenantId),
        );
    })
    .select('id')
    .from('tree');
}

/** Checks the form, then what needs the database: a unique account ID and a parent in reach (and no cycle). */
async function checkedFields(
  trx: Trx,
  actor: Actor,
  form: Partial<CustomerForm>,
  existingId?: string,
): Promise<CustomerFields> {
  const { fields, errors } = checkCustomerForm(form);
  if (!errors.account_id) {
    const taken = trx('customers')
      .where({ tenant_id: actor.tenantId })
      .whereILike('account_id', escapeLike(fields.account_id));
    if (existingId) taken.whereNot({ id: existingId });
    if (await taken.first('id')) errors.account_id = MESSAGES.accountIdTaken;
  }
  if (fields.parent_id && !errors.parent_id) {
    const parent = await trx('customers')
      .where({ tenant_id: actor.tenantId, id: fields.parent_id })
      .whereIn('id', customerIdsInReach(trx, actor))
      .first('id');
    if (!parent) errors.parent_id = MESSAGES.parentMissing;
    else if (existingId && (await customerTree(trx, actor, existingId).where('id', fields.parent_id).first()))
      errors.parent_id = MESSAGES.parentCycle;
  }
  if (Object.keys(errors).length) throw new ValidationError(errors);
  return fields;
}

/** Two admins saving the same account ID at once: the unique key decides, with the same message. */
function accountIdRace(err: unknown): never {
  if ((err as { code?: string }).code === '23505') throw new ValidationError({ account_id: MESSAGES.accountIdTaken });
  throw err;
}

export async function createCustomer(db: Db, actor: Actor, form: Partial<CustomerForm>): Promise<CustomerSummary> {
  authorize(actor, 'customer.manage');
  return asActor(db, actor, async (trx) => {
    const fields = await checkedFields(trx, actor, form);
    const [row] = await trx('customers')
      .insert({ tenant_id: actor.tenantId, ...fields })
      .returning<Customer[]>(COLUMNS)
      .catch(accountIdRace);
    const customer = row!;
    await audit(trx, actor, {
      entityType: 'customer',
      entityId: customer.id,
      customerId: customer.id,
      action: 'customer.created',
      after: snapshotOf(customer),
    });
    return { id: customer.id, title: customer.title, account_id: customer.account_id, status: customer.status };
  });
}

export async function updateCustomer(
  db: Db,
  actor: Actor,
  id: string,
  form: Partial<CustomerForm>,
): Promise<CustomerSummary> {
  authorize(actor, 'customer.manage');
  return asActor(db, actor, async (trx) => {
    const before = await findCustomerInReach(trx, actor, id, { forUpdate: true });
    const fields = await checkedFields(trx, actor, form, before.id);
    const summary = { id: before.id, title: fields.title, account_id: fields.account_id, status: fields.status };
    // saved as it was: nothing to record
    if (!Object.keys(differenceOf(snapshotOf(before), fields)).length) return summary;
    await trx('customers')
      .where({ tenant_id: actor.tenantId, id: before.id })
      .update({ ...fields, updated_at: trx.fn.now() })
      .catch(accountIdRace);
    await audit(trx, actor, {
      entityType: 'customer',
      entityId: before.id,
      customerId: before.id,
      action: 'customer.updated',
      before: snapshotOf(before),
      after: fields,
    });
    return summary;
  });
}
