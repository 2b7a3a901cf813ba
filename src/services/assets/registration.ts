import type { Db, Trx } from '../../db/index.js';
import { ValidationError } from '../../errors.js';
import { msg, type Msg } from '../platform/i18n.js';
import { ASSET_COLUMNS, lookUpIdentifier, type AssetRow, type GroupChoice } from './detail.js';
import { deviceFieldProblems, groupDepths, groupOptionLabel } from './rules.js';
import { audit } from '../platform/index.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize, groupsToPick, seesWholeCustomer } from '../access/index.js';
import { PLANS, type Plan } from './subscription-rules.js';
import { insertRequest, isUniqueViolation } from './request-writes.js';

/** Registering a new device: the groups it may go in, and its activation request ("Request activation"). */

/**
 * The groups a new device may be registered in, across the customers the actor reaches. With
 * several customers each group is named with its customer, since group names repeat.
 */
export async function registrationChoices(
  db: Db,
  actor: Actor,
): Promise<{ groups: GroupChoice[]; allowNoGroup: boolean }> {
  authorize(actor, 'asset.request');
  return asActor(db, actor, async (trx) => {
    const q = groupsToPick(trx, actor, 'g').join('customers as c', function () {
      this.on('c.tenant_id', 'g.tenant_id').andOn('c.id', 'g.customer_id');
    });
    const rows: {
      id: string;
      parent_id: string | null;
      customer_id: string;
      name: string;
      path: string;
      title: string;
    }[] = await q
      .orderByRaw('(g.customer_id = ?) desc, c.title, g.path, g.id', [actor.customerId])
      .select('g.id', 'g.parent_id', 'g.customer_id', 'g.name', 'g.path', 'c.title');
    const several = new Set(rows.map((r) => r.customer_id)).size > 1;
    const depths = groupDepths(rows);
    const groups = rows.map((g) => ({
      id: g.id,
      customerId: g.customer_id,
      path: g.path,
      label: several ? `${g.title} / ${g.path}` : groupOptionLabel(g.name, depths.get(g.id) ?? 0),
    }));
    // a company admin may register a device outside any group; group admins only inside theirs
    return { groups, allowNoGroup: seesWholeCustomer(actor) };
  });
}

export type NewDeviceForm = { identifier: string; name: string; groupId: string; plan: string };
export type NewDeviceResult = { assetId: string; created: boolean };

/** Said when an identifier belongs to a customer or group the person does not reach; nothing else is revealed. */
export function registeredElsewhereMessage(actor: Actor): Msg {
  return msg('This device is registered to another account. If it should be yours, contact {provider}.', {
    provider: actor.tenantName,
  });
}

/**
 * "Request activation" of a device: an identifier already in the actor's reach leads to that
 * asset (reactivation is there); one registered elsewhere is refused plainly; a new one becomes
 * an asset waiting for activation, with its pending request.
 */
export async function requestActivationOfNewDevice(
  db: Db,
  actor: Actor,
  form: NewDeviceForm,
): Promise<NewDeviceResult> {
  authorize(actor, 'asset.request');
  const identifier = form.identifier.trim();
  const name = form.name.trim();
  const errors = deviceFieldProblems(identifier, name);
  if (!(PLANS as readonly string[]).includes(form.plan)) errors.plan = msg('Choose a plan.');
  return asActor(db, actor, async (trx) => {
    if (!errors.identifier) {
      const existing = await lookUpIdentifier(trx, actor, identifier);
      if (existing.found === 'in_reach') return { assetId: existing.asset.id, created: false };
      if (existing.found === 'elsewhere') errors.identifier = registeredElsewhereMessage(actor);
    }
    const group = await groupForNewDevice(trx, actor, form.groupId);
    if (group === undefined)
      errors.group_id = seesWholeCustomer(actor)
        ? msg('Choose one of the listed groups, or no group.')
        : msg('Choose one of your groups.');
    if (Object.keys(errors).length) throw new ValidationError(errors);
    const plan = form.plan as Plan;
    const [row] = await trx('assets')
      .insert({
        tenant_id: actor.tenantId,
        customer_id: group?.customer_id ?? actor.customerId,
        group_id: group?.id ?? null,
        group_path: group?.path ?? '',
        identifier,
        name,
        plan,
        status: 'activation_pending',
      })
      .returning<AssetRow[]>([...ASSET_COLUMNS])
      .catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw new ValidationError({
            identifier: msg('This device was registered a moment ago. Search for it again.'),
          });
        throw err;
      });
    const asset = row!;
    await insertRequest(trx, actor, asset, { kind: 'activation' });
    await audit(trx, actor, {
      entityType: 'asset',
      entityId: asset.id,
      customerId: asset.customer_id,
      action: 'asset.activation_requested',
      after: { identifier, name, group_path: asset.group_path, plan, status: 'activation_pending' },
    });
    return { assetId: asset.id, created: true };
  });
}

/**
 * The chosen group if the actor may register devices in it; null for "no group" (company admins);
 * undefined when refused.
 */
async function groupForNewDevice(
  trx: Trx,
  actor: Actor,
  groupId: string,
): Promise<{ id: string; customer_id: string; path: string } | null | undefined> {
  if (!groupId) return seesWholeCustomer(actor) && actor.customerId ? null : undefined;
  if (!isUuid(groupId)) return undefined;
  return groupsToPick(trx, actor, 'g')
    .where('g.id', groupId)
    .first<{ id: string; customer_id: string; path: string } | undefined>('g.id', 'g.customer_id', 'g.path');
}
