import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { audit, msg } from '../platform/index.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import type { UserStatus } from '../people/index.js';
import { SHOWN_PERSON } from '../people/rules.js';
import type { PartnerUser } from './partner-users.js';

/**
 * Partners (resellers) as provider staff manage them: the partner, its partner viewers (created
 * in partner-users.ts, like customer users) and the customers assigned to it. A customer is sold
 * through at most one partner. Tenant admins only.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type Partner = { id: string; name: string; customerCount: number; userCount: number };
export type AssignedCustomer = { id: string; title: string; accountId: string };
export type PartnerDetail = {
  partner: { id: string; name: string };
  customers: AssignedCustomer[];
  users: Omit<PartnerUser, 'partnerId' | 'partnerName'>[];
  /** customers not yet assigned to any partner, for the assign form */
  assignable: AssignedCustomer[];
};

export async function listPartners(db: Db, actor: Actor): Promise<Partner[]> {
  authorize(actor, 'partner.manage');
  return asActor(db, actor, async (trx) => {
    const rows = await trx('partners as p')
      .where('p.tenant_id', actor.tenantId)
      .orderByRaw('lower(p.name), p.id')
      .select(
        'p.id',
        'p.name',
        trx.raw(
          `(select count(*)::int from customers c
             where c.tenant_id = p.tenant_id and c.partner_id = p.id) as "customerCount"`,
        ),
        trx.raw(
          `(select count(*)::int from memberships m
             where m.tenant_id = p.tenant_id and m.partner_id = p.id and m.role = 'partner_viewer') as "userCount"`,
        ),
      );
    return rows as Partner[];
  });
}

function partnerNameProblem(name: string): string | null {
  if (!name) return msg("Enter the partner's name.");
  if (name.length > 200) return msg('Use at most 200 characters.');
  return null;
}

export async function createPartner(
  db: Db,
  actor: Actor,
  input: { name: string },
): Promise<{ id: string; name: string }> {
  authorize(actor, 'partner.manage');
  const name = input.name.trim();
  const problem = partnerNameProblem(name);
  if (problem) throw new ValidationError({ name: problem });
  return asActor(db, actor, async (trx) => {
    if (
      await trx('partners').where('tenant_id', actor.tenantId).whereRaw('lower(name) = lower(?)', [name]).first('id')
    ) {
      throw new ValidationError({ name: msg('A partner with this name already exists.') });
    }
    const [row] = await trx('partners')
      .insert({ tenant_id: actor.tenantId, name })
      .returning<{ id: string; name: string }[]>(['id', 'name']);
    await audit(trx, actor, { entityType: 'partner', entityId: row!.id, action: 'partner.created', after: row });
    return row!;
  });
}

async function findPartner(trx: Trx, actor: Actor, partnerId: string): Promise<{ id: string; name: string }> {
  if (!UUID.test(partnerId)) throw new NotFoundError();
  const partner = await trx('partners')
    .where({ tenant_id: actor.tenantId, id: partnerId })
    .first<{ id: string; name: string } | undefined>('id', 'name');
  if (!partner) throw new NotFoundError();
  return partner;
}

export async function getPartner(db: Db, actor: Actor, partnerId: string): Promise<PartnerDetail> {
  authorize(actor, 'partner.manage');
  return asActor(db, actor, async (trx) => {
    const partner = await findPartner(trx, actor, partnerId);
    const customers = await trx('customers')
      .where({ tenant_id: actor.tenantId, partner_id: partner.id })
      .orderByRaw('lower(title), id')
      .select<AssignedCustomer[]>('id', 'title', 'account_id as accountId');
    const assignable = await trx('customers')
      .where('tenant_id', actor.tenantId)
      .whereNull('partner_id')
      .orderByRaw('lower(title), id')
      .limit(1000)
      .select<AssignedCustomer[]>('id', 'title', 'account_id as accountId');
    const users = await trx('memberships as m')
      .join('users as u', 'u.id', 'm.user_id')
      .where({ 'm.tenant_id': actor.tenantId, 'm.partner_id': partner.id, 'm.role': 'partner_viewer' })
      .orderByRaw(`lower(${SHOWN_PERSON.name}), u.id`)
      .select<{ id: string; name: string; email: string; status: UserStatus; membershipId: string; createdAt: Date }[]>(
        'u.id',
        trx.raw(`${SHOWN_PERSON.name} as name`),
        trx.raw(`${SHOWN_PERSON.email} as email`),
        trx.raw(`${SHOWN_PERSON.status} as status`),
        'm.id as membershipId',
        trx.raw(`${SHOWN_PERSON.createdAt} as "createdAt"`),
      );
    return { partner, customers, users, assignable };
  });
}

/** Assigns a customer to the partner; a customer already sold through another partner is refused with its name. */
export async function assignCustomer(
  db: Db,
  actor: Actor,
  partnerId: string,
  customerId: string,
): Promise<AssignedCustomer> {
  authorize(actor, 'partner.manage');
  if (!customerId) throw new ValidationError({ customerId: msg('Choose a customer.') });
  return asActor(db, actor, async (trx) => {
    const partner = await findPartner(trx, actor, partnerId);
    if (!UUID.test(customerId)) throw new ValidationError({ customerId: msg('Choose a customer.') });
    const customer = await trx('customers as c')
      .leftJoin('partners as p', function () {
        this.on('p.tenant_id', 'c.tenant_id').andOn('p.id', 'c.partner_id');
      })
      .where({ 'c.tenant_id': actor.tenantId, 'c.id': customerId })
      .forUpdate('c')
      .first<
        | { id: string; title: string; accountId: string; partner_id: string | null; partner_name: string | null }
        | undefined
      >('c.id', 'c.title', 'c.account_id as accountId', 'c.partner_id', 'p.name as partner_name');
    if (!customer) throw new ValidationError({ customerId: msg('Choose a customer.') });
    if (customer.partner_id === partner.id)
      return { id: customer.id, title: customer.title, accountId: customer.accountId };
    if (customer.partner_id)
      throw new ConflictError('{customer} is already assigned to {partner}. Remove it there first.').withValues({
        customer: customer.title,
        partner: customer.partner_name,
      });
    await trx('customers').where({ tenant_id: actor.tenantId, id: customer.id }).update({ partner_id: partner.id });
    await audit(trx, actor, {
      entityType: 'customer',
      entityId: customer.id,
      action: 'customer.partner_assigned',
      customerId: customer.id,
      before: { partner: null },
      after: { partnerId: partner.id, partner: partner.name },
    });
    return { id: customer.id, title: customer.title, accountId: customer.accountId };
  });
}

export async function unassignCustomer(
  db: Db,
  actor: Actor,
  partnerId: string,
  customerId: string,
): Promise<AssignedCustomer> {
  authorize(actor, 'partner.manage');
  return asActor(db, actor, async (trx) => {
    const partner = await findPartner(trx, actor, partnerId);
    if (!UUID.test(customerId)) throw new NotFoundError();
    const customer = await trx('customers')
      .where({ tenant_id: actor.tenantId, id: customerId, partner_id: partner.id })
      .forUpdate()
      .first<AssignedCustomer | undefined>('id', 'title', 'account_id as accountId');
    if (!customer) throw new NotFoundError();
    await trx('customers').where({ tenant_id: actor.tenantId, id: customer.id }).update({ partner_id: null });
    await audit(trx, actor, {
      entityType: 'customer',
      entityId: customer.id,
      action: 'customer.partner_removed',
      customerId: customer.id,
      before: { partnerId: partner.id, partner: partner.name },
      after: { partner: null },
    });
    return customer;
  });
}
