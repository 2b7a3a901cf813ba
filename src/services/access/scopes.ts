import type { Knex } from 'knex';
import type { Trx } from '../../db/index.js';
import { can, isSiteViewer, isStaff, seesAssignedGroups, seesWholeCustomer, STAFF_ROLES, type Actor } from './roles.js';

/**
 * What an actor reaches, as knex queries to build lists and look-ups from: a list is built from its
 * scope, never filtered after the fact.
 */

/**
 * The customers an actor reaches: every customer of the tenant for staff; for a company admin
 * their own customer and, recursively, its inner customers; nothing for anyone else.
 * Returns a query of customer ids, to use as `whereIn('id', customerIdsInReach(trx, actor))`.
 */
export function customerIdsInReach(trx: Trx, actor: Actor): Knex.QueryBuilder {
  if (isStaff(actor)) return trx('customers').where({ tenant_id: actor.tenantId }).select('id');
  if (!seesWholeCustomer(actor) || !actor.customerId) return trx('customers').whereRaw('false').select('id');
  return trx
    .withRecursive('reach', (q) => {
      q.select('id')
        .from('customers')
        .where({ tenant_id: actor.tenantId, id: actor.customerId })
        .unionAll((u) =>
          u
            .select('c.id')
            .from('customers as c')
            .join('reach as r', 'c.parent_id', 'r.id')
            .where('c.tenant_id', actor.tenantId),
        );
    })
    .select('id')
    .from('reach');
}

/**
 * The customers a partner viewer reaches: those assigned to their partner, and nothing else (not
 * their inner customers: each is assigned on its own). Returns a query of customer ids.
 */
export function partnerCustomerIds(trx: Trx, actor: Actor): Knex.QueryBuilder {
  if (actor.role !== 'partner_viewer' || !actor.partnerId) return trx('customers').whereRaw('false').select('id');
  return trx('customers').where({ tenant_id: actor.tenantId, partner_id: actor.partnerId }).select('id');
}

/**
 * The groups a group admin or supervisor reaches: those assigned to them and, recursively, their
 * sub-groups. Returns a query of group ids.
 */
export function groupIdsInReach(trx: Trx, actor: Actor): Knex.QueryBuilder {
  return trx
    .withRecursive('reach', (q) => {
      q.select('g.id')
        .from('groups as g')
        .join('membership_groups as mg', function () {
          this.on('mg.tenant_id', 'g.tenant_id').andOn('mg.group_id', 'g.id');
        })
        .where({ 'mg.tenant_id': actor.tenantId, 'mg.membership_id': actor.membershipId })
        .unionAll((u) =>
          u
            .select('c.id')
            .from('groups as c')
            .join('reach as r', 'c.parent_id', 'r.id')
            .where('c.tenant_id', actor.tenantId),
        );
    })
    .select('id')
    .from('reach');
}

/**
 * The groups an actor reaches, as a query on `groups`: a company admin every group of their
 * customers; a group admin or supervisor their groups and sub-groups; anyone else none.
 */
export function scopeGroups(trx: Trx, actor: Actor, alias = 'groups'): Knex.QueryBuilder {
  const q = trx(`groups as ${alias}`).where(`${alias}.tenant_id`, actor.tenantId);
  if (seesWholeCustomer(actor))
    return q.whereRaw('??.customer_id = any(array(?))', [alias, customerIdsInReach(trx, actor)]);
  if (seesAssignedGroups(actor)) {
    return q
      .where(`${alias}.customer_id`, actor.customerId)
      .whereRaw('??.id = any(array(?))', [alias, groupIdsInReach(trx, actor)]);
  }
  return q.whereRaw('false');
}

/**
 * The groups an actor may pick to put an asset in (registering a device, moving one): the groups in
 * their reach, for those who may ask for changes to assets; every group of the tenant for staff who
 * manage devices directly (callers narrow it to the asset's customer); none for anyone else.
 */
export function groupsToPick(trx: Trx, actor: Actor, alias = 'groups'): Knex.QueryBuilder {
  if (can(actor, 'asset.staff_manage')) return trx(`groups as ${alias}`).where(`${alias}.tenant_id`, actor.tenantId);
  const q = scopeGroups(trx, actor, alias);
  return can(actor, 'asset.request') ? q : q.whereRaw('false');
}

/**
 * The assets an actor reaches, as a query on `assets` to build lists and lookups from:
 * staff every asset of the tenant; a company admin their customer's and inner customers';
 * a group admin or supervisor those in their groups and sub-groups; anyone else none.
 */
export function scopeAssets(trx: Trx, actor: Actor, alias = 'assets'): Knex.QueryBuilder {
  const q = trx(`assets as ${alias}`).where(`${alias}.tenant_id`, actor.tenantId);
  if (isStaff(actor)) return q;
  // `= any(array(...))`, not `in (...)`: the list then reads one index range per customer, where
  // a semi join would walk the whole tenant's index in order (seconds at a million assets)
  if (seesWholeCustomer(actor))
    return q.whereRaw('??.customer_id = any(array(?))', [alias, customerIdsInReach(trx, actor)]);
  if (seesAssignedGroups(actor)) {
    return q
      .where(`${alias}.customer_id`, actor.customerId)
      .whereRaw('??.group_id = any(array(?))', [alias, groupIdsInReach(trx, actor)]);
  }
  return q.whereRaw('false');
}

/**
 * The tab badges' counters (asset_counts) over the same reach as scopeAssets: the customers in
 * reach, or for group roles the groups in reach; read instead of counting assets per request.
 */
export function scopeAssetCounts(trx: Trx, actor: Actor, alias = 'asset_counts'): Knex.QueryBuilder {
  const q = trx(`asset_counts as ${alias}`).where(`${alias}.tenant_id`, actor.tenantId);
  if (isStaff(actor)) return q;
  if (seesWholeCustomer(actor))
    return q.whereRaw('??.customer_id = any(array(?))', [alias, customerIdsInReach(trx, actor)]);
  if (seesAssignedGroups(actor)) {
    return q
      .where(`${alias}.customer_id`, actor.customerId)
      .whereRaw('??.group_key = any(array(?))', [alias, groupIdsInReach(trx, actor)]);
  }
  return q.whereRaw('false');
}

/**
 * The sites an actor reaches, as a query on `sites`: staff every site of the tenant; a site viewer
 * the sites chosen for their membership that still belong to their customer; anyone else none.
 */
export function scopeSites(trx: Trx, actor: Actor, alias = 'sites'): Knex.QueryBuilder {
  const q = trx(`sites as ${alias}`).where(`${alias}.tenant_id`, actor.tenantId);
  if (isStaff(actor)) return q;
  if (isSiteViewer(actor) && actor.customerId) {
    return q
      .where(`${alias}.customer_id`, actor.customerId)
      .whereIn(
        `${alias}.id`,
        trx('membership_sites')
          .where({ tenant_id: actor.tenantId, membership_id: actor.membershipId })
          .select('site_id'),
      );
  }
  return q.whereRaw('false');
}

/**
 * The tickets an actor reaches, as a query on `tickets`: staff every ticket of the tenant; a company
 * admin their customers'; a group admin or supervisor those about their groups' assets and those
 * they opened themselves; anyone else none.
 */
export function scopeTickets(trx: Trx, actor: Actor, alias = 't'): Knex.QueryBuilder {
  const q = trx(`tickets as ${alias}`).where(`${alias}.tenant_id`, actor.tenantId);
  if (isStaff(actor)) return q;
  if (seesWholeCustomer(actor))
    return q.whereRaw('??.customer_id = any(array(?))', [alias, customerIdsInReach(trx, actor)]);
  if (seesAssignedGroups(actor)) {
    return q
      .where(`${alias}.customer_id`, actor.customerId)
      .where((w) =>
        w
          .whereRaw('??.asset_id = any(array(?))', [alias, scopeAssets(trx, actor, 'sa').select('sa.id')])
          .orWhere(`${alias}.opened_by`, actor.userId),
      );
  }
  return q.whereRaw('false');
}

/**
 * The people who serve a tenant as its staff, as a query of user ids: what a customer is shown of a person
 * depends on it (staff by name and provider, never by login email).
 */
export function staffUserIds(trx: Trx, tenantId: string): Knex.QueryBuilder {
  return trx('memberships').where('tenant_id', tenantId).whereIn('role', STAFF_ROLES).select('user_id');
}
