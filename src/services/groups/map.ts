import type { Db } from '../../db/index.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { formatDateTime } from '../platform/time-format.js';
import { msg } from '../platform/i18n.js';
import { isUuid } from '../customers/rules.js';
import { subtreeIds } from './tree.js';
import { findGroupInScope } from './group-row.js';
import { type Actor, asActor, authorize, scopeAssets } from '../access/index.js';

/**
 * The devices map of a group: the last known position of the devices in the group and its
 * sub-groups. A feature the provider switches on per customer (customers.map_enabled); while it
 * is off the map is refused (403) and its buttons are not shown.
 */

/** The most a map draws: the most recently located devices first. */
export const MAP_DEVICE_LIMIT = 1000;

export type MapDevice = {
  id: string;
  identifier: string;
  name: string;
  latitude: number;
  longitude: number;
  /** ISO 8601, UTC */
  locatedAt: string;
  /** the time of the fix in the viewer's time zone */
  fixLabel: string;
  url: string;
};

export type GroupMap = {
  group: { id: string; name: string; path: string; customerTitle: string };
  devices: MapDevice[];
  /** more devices have a position than the map draws */
  more: boolean;
};

export const MAP_OFF_MESSAGE = msg(
  'The devices map is not switched on for this customer. Your provider can switch it on.',
);

/** The last positions of a group's devices, for the map page and its JSON. */
export async function groupMap(db: Db, actor: Actor, groupId: string): Promise<GroupMap> {
  authorize(actor, 'group.map');
  return asActor(db, actor, async (trx) => {
    const group = await findGroupInScope(trx, actor, groupId);
    if (!group.map_enabled) throw new ForbiddenError(MAP_OFF_MESSAGE);
    const rows = (await scopeAssets(trx, actor, 'a')
      .whereRaw('a.group_id = any(array(?))', [subtreeIds(trx, actor.tenantId, group.id)])
      .whereNotNull('a.last_latitude')
      .whereNotNull('a.last_longitude')
      .whereNotNull('a.last_located_at')
      .orderBy([{ column: 'a.last_located_at', order: 'desc' }, { column: 'a.id' }])
      .limit(MAP_DEVICE_LIMIT + 1)
      .select('a.id', 'a.identifier', 'a.name', 'a.last_latitude', 'a.last_longitude', 'a.last_located_at')) as {
      id: string;
      identifier: string;
      name: string;
      last_latitude: number;
      last_longitude: number;
      last_located_at: Date;
    }[];
    return {
      group: { id: group.id, name: group.name, path: group.path, customerTitle: group.customer_title },
      devices: rows.slice(0, MAP_DEVICE_LIMIT).map((r) => ({
        id: r.id,
        identifier: r.identifier,
        name: r.name || r.identifier,
        latitude: r.last_latitude,
        longitude: r.last_longitude,
        locatedAt: r.last_located_at.toISOString(),
        fixLabel: formatDateTime(r.last_located_at, actor.timeZone),
        url: `/assets/${r.id}`,
      })),
      more: rows.length > MAP_DEVICE_LIMIT,
    };
  });
}

/** Staff: whether a customer's devices map is on. */
export async function customerMapEnabled(db: Db, actor: Actor, customerId: string): Promise<boolean> {
  authorize(actor, 'customer.view');
  if (!isUuid(customerId)) throw new NotFoundError();
  return asActor(db, actor, async (trx) => {
    const row = await trx('customers')
      .where({ tenant_id: actor.tenantId, id: customerId })
      .first<{ map_enabled: boolean } | undefined>('map_enabled');
    if (!row) throw new NotFoundError();
    return row.map_enabled;
  });
}

/** Staff (tenant admins): switch a customer's devices map on ('on') or off ('off'); audited. */
export async function setCustomerMap(
  db: Db,
  actor: Actor,
  customerId: string,
  value: string,
): Promise<{ title: string; enabled: boolean }> {
  authorize(actor, 'customer.manage');
  if (!isUuid(customerId)) throw new NotFoundError();
  return asActor(db, actor, async (trx) => {
    const customer = await trx('customers')
      .where({ tenant_id: actor.tenantId, id: customerId })
      .forUpdate()
      .first<{ id: string; title: string; map_enabled: boolean } | undefined>('id', 'title', 'map_enabled');
    if (!customer) throw new NotFoundError();
    if (value !== 'on' && value !== 'off')
      throw new ValidationError({ map: msg('Choose to switch the map on or off.') });
    const enabled = value === 'on';
    if (enabled !== customer.map_enabled) {
      await trx('customers')
        .where({ tenant_id: actor.tenantId, id: customerId })
        .update({ map_enabled: enabled, updated_at: trx.fn.now() });
      await audit(trx, actor, {
        entityType: 'customer',
        entityId: customerId,
        action: enabled ? 'customer.map_enabled' : 'customer.map_disabled',
        customerId,
        before: { mapEnabled: customer.map_enabled },
        after: { mapEnabled: enabled },
      });
    }
    return { title: customer.title, enabled };
  });
}
