import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { formatDateTime } from '../platform/time-format.js';
import {
  AUDIT_PAGE_SIZE,
  checkCustomerForm,
  confirmsTitle,
  differenceOf,
  escapeLike,
  isUuid,
  listQueryFrom,
  MESSAGES,
  snapshotOf,
  type CustomerFields,
  type CustomerForm,
  type Difference,
  type ListQuery,
} from './rules.js';
import { type Actor, asActor, authorize, customerIdsInReach, isStaff } from '../access/index.js';
import { endSessionsOfUser } from '../people/index.js';

/** The provider staff's administration of their customers: list, view, create, edit, delete, audit. */

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
          '(select count(distinct m.user_id)::int from memberships m where m.tenant_id = c.tenant_id and m.customer_id = c.id) as user_count',
        ),
      )
      .orderBy([{ column: 'c.title' }, { column: 'c.id' }])
      .limit(size)
      .offset((current - 1) * size);
    return { q, page: current, size, rows, total, pageCount, hasMore: current < pageCount };
  });
}

async function findCustomerInReach(
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
    if (!Object.keys(differenceOf(snapshotOf(before), fields)).length) return summary; // saved as it was: nothing to record
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

/**
 * Why a customer cannot be deleted right now, in words for the admin; empty when it can.
 * Every rule that blocks deletion (inner customers, active assets) belongs here.
 */
export async function deletionBlockers(trx: Trx, customer: Pick<Customer, 'id' | 'tenant_id'>): Promise<string[]> {
  const reasons: string[] = [];
  const [inner] = await trx('customers')
    .where({ tenant_id: customer.tenant_id, parent_id: customer.id })
    .count<{ count: number }[]>({ count: '*' });
  const innerCount = Number(inner?.count ?? 0);
  if (innerCount)
    reasons.push(`It has ${innerCount} inner customer${innerCount === 1 ? '' : 's'}. ${MESSAGES.innerCustomers}`);
  // from the kept counters, never a count over the customer's assets
  const [live] = await trx('asset_counts')
    .where({ tenant_id: customer.tenant_id, customer_id: customer.id })
    .whereIn('status', ['active', 'deactivation_pending'])
    .sum<{ n: number | null }[]>({ n: 'n' });
  const liveCount = Number(live?.n ?? 0);
  if (liveCount)
    reasons.push(
      `It still has ${liveCount} active asset${liveCount === 1 ? '' : 's'} (active or waiting for deactivation); deactivate them first.`,
    );
  return reasons;
}

export type DeletionPreview = { customer: Customer; blockers: string[]; userCount: number; usersToDisable: number };

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
    if (blockers.length) throw new ConflictError(blockers.join(' '));
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

/** What is left of a customer's assets once none is active: inactive assets (their requests go by cascade), counters, groups. */
async function deleteAssetsAndGroups(trx: Trx, customer: Pick<Customer, 'id' | 'tenant_id'>): Promise<void> {
  const of = { tenant_id: customer.tenant_id, customer_id: customer.id };
  await trx('assets').where(of).del();
  await trx('asset_counts').where(of).del();
  await trx('membership_groups')
    .where({ tenant_id: customer.tenant_id })
    .whereIn('group_id', trx('groups').where(of).select('id'))
    .del();
  await trx('groups').where(of).del(); // parents and sub-groups in one statement: the parent key is checked at its end
}

export type AuditEntryView = {
  id: number;
  at: Date;
  atLabel: string;
  actorLabel: string;
  entityType: string;
  entityId: string;
  action: string;
  difference: Difference;
};
export type AuditPage = {
  customer: { id: string; title: string; deleted: boolean };
  entries: AuditEntryView[];
  olderBefore: number | null;
  isFirstPage: boolean;
};

/**
 * A customer's audit log, newest first, a page of 50 at a time by keyset (`before` = an entry id).
 * The log of a deleted customer stays readable: its last entry names it.
 */
export async function listAuditEntries(
  db: Db,
  actor: Actor,
  customerId: string,
  opts: { before?: unknown } = {},
): Promise<AuditPage> {
  authorize(actor, 'audit.view');
  if (!isUuid(customerId)) throw new NotFoundError();
  const before = Number(opts.before);
  const beforeId = Number.isSafeInteger(before) && before > 0 ? before : null;
  return asActor(db, actor, async (trx) => {
    const customer = await auditSubject(trx, actor, customerId);
    const q = trx('audit_log').where({ tenant_id: actor.tenantId, customer_id: customerId });
    if (beforeId) q.where('id', '<', beforeId);
    const rows: {
      id: number;
      at: Date;
      actor_label: string;
      entity_type: string;
      entity_id: string;
      action: string;
      before: unknown;
      after: unknown;
    }[] = await q
      .orderBy('id', 'desc')
      .limit(AUDIT_PAGE_SIZE + 1)
      .select('id', 'at', 'actor_label', 'entity_type', 'entity_id', 'action', 'before', 'after');
    const page = rows.slice(0, AUDIT_PAGE_SIZE);
    return {
      customer,
      entries: page.map((r) => ({
        id: r.id,
        at: r.at,
        atLabel: formatDateTime(r.at, actor.timeZone),
        actorLabel: r.actor_label,
        entityType: r.entity_type,
        entityId: r.entity_id,
        action: r.action,
        difference: differenceOf(r.before, r.after),
      })),
      olderBefore: rows.length > AUDIT_PAGE_SIZE ? page[page.length - 1]!.id : null,
      isFirstPage: beforeId === null,
    };
  });
}

async function auditSubject(trx: Trx, actor: Actor, customerId: string): Promise<AuditPage['customer']> {
  const live = await trx('customers')
    .where({ tenant_id: actor.tenantId, id: customerId })
    .whereIn('id', customerIdsInReach(trx, actor))
    .first<{ id: string; title: string } | undefined>('id', 'title');
  if (live) return { ...live, deleted: false };
  if (!isStaff(actor)) throw new NotFoundError(); // a deleted customer's log is the provider's record alone
  const gone = await trx('audit_log')
    .where({
      tenant_id: actor.tenantId,
      customer_id: customerId,
      entity_type: 'customer',
      entity_id: customerId,
      action: 'customer.deleted',
    })
    .first<{ before: { title?: string } | null } | undefined>('before');
  if (!gone) throw new NotFoundError();
  return { id: customerId, title: gone.before?.title ?? 'Deleted customer', deleted: true };
}
