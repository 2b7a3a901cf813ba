import type { Db, Trx } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { LIVE_VIEW_PERMISSIONS, NO_PORTAL_ACCESS, type PortalAccess } from './rules.js';

/**
 * A customer's portal access: whether its site viewers may use the site map at all, and the six Live
 * View permissions that decide what the map and a site's page show them. No row means all off.
 */

export async function portalAccessOf(trx: Trx, tenantId: string, customerId: string): Promise<PortalAccess> {
  const row = await trx('portal_access')
    .where({ tenant_id: tenantId, customer_id: customerId })
    .first<PortalAccess | undefined>('enabled', ...LIVE_VIEW_PERMISSIONS);
  return row ? { ...row } : { ...NO_PORTAL_ACCESS };
}

async function customerRef(trx: Trx, actor: Actor, customerId: string) {
  if (!isUuid(customerId)) throw new NotFoundError();
  const customer = await trx('customers')
    .where({ tenant_id: actor.tenantId, id: customerId })
    .first<{ id: string; title: string } | undefined>('id', 'title');
  if (!customer) throw new NotFoundError();
  return customer;
}

export async function getPortalAccess(db: Db, actor: Actor, customerId: string) {
  authorize(actor, 'portal_access.manage');
  return asActor(db, actor, async (trx) => {
    const customer = await customerRef(trx, actor, customerId);
    return { customer, access: await portalAccessOf(trx, actor.tenantId, customer.id) };
  });
}

/** Saves the switches as the staff form sends them (a ticked box is 'on'); audited with the difference. */
export async function setPortalAccess(db: Db, actor: Actor, customerId: string, form: Record<string, unknown>) {
  authorize(actor, 'portal_access.manage');
  return asActor(db, actor, async (trx) => {
    const customer = await customerRef(trx, actor, customerId);
    const before = await portalAccessOf(trx, actor.tenantId, customer.id);
    const after = {
      enabled: form.enabled === 'on',
      ...Object.fromEntries(LIVE_VIEW_PERMISSIONS.map((p) => [p, form[p] === 'on'])),
    } as PortalAccess;
    await trx('portal_access')
      .insert({ tenant_id: actor.tenantId, customer_id: customer.id, ...after, updated_at: trx.fn.now() })
      .onConflict(['tenant_id', 'customer_id'])
      .merge();
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      await audit(trx, actor, {
        entityType: 'customer',
        entityId: customer.id,
        action: 'customer.portal_access_changed',
        customerId: customer.id,
        before,
        after,
      });
    }
    return { customer, access: after };
  });
}
