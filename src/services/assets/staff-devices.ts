import type { Db, Trx } from '../../db/index.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { ASSET_COLUMNS, groupChoicesFor, subjectOf, type AssetRow, type GroupChoice } from './detail.js';
import { activationKind, deviceFieldProblems } from './rules.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { PLANS, todayIn, type Plan } from './subscription-rules.js';
import { actorLabel, auditAsset, decidedBy, insertRequest, isUniqueViolation, updateAsset } from './request-writes.js';
import { lockForAction, moveLocked } from './requests.js';
import { activation, DEACTIVATED } from './queue.js';
import { msg, type Msg } from '../platform/i18n.js';

/**
 * Staff manage a customer's devices directly (`/admin/customers/:id/assets`): register, edit the
 * name and identifier, move, activate and deactivate, with no request waiting in the queue. Each
 * change locks the asset, is checked by the same rules as the customer's actions (availableActions
 * via lockForAction), is kept in the asset's history as a request applied at once (the customer
 * sees it on the asset's page) and audited in the customer's log, all in one transaction. Every
 * function takes the customer the URL names: an asset or group of another customer is not found.
 */

type StaffCustomer = { id: string; title: string };

/** The customer of the actor's tenant the URL names (404 otherwise). */
async function customerOf(trx: Trx, actor: Actor, customerId: string): Promise<StaffCustomer> {
  if (!isUuid(customerId)) throw new NotFoundError();
  const customer = await trx('customers')
    .where({ tenant_id: actor.tenantId, id: customerId })
    .first<StaffCustomer | undefined>('id', 'title');
  if (!customer) throw new NotFoundError();
  return customer;
}

/** The registration form's choices: the customer and its groups (sub-groups under their parent). */
export async function deviceRegistrationChoices(
  db: Db,
  actor: Actor,
  customerId: string,
): Promise<{ customer: StaffCustomer; groups: GroupChoice[] }> {
  authorize(actor, 'asset.staff_manage');
  return asActor(db, actor, async (trx) => {
    const customer = await customerOf(trx, actor, customerId);
    return { customer, groups: await groupChoicesFor(trx, actor, customer.id) };
  });
}

export const STAFF_DEVICE_MESSAGES = {
  group: msg('Choose one of the customer’s groups.'),
  plan: msg('Choose a plan.'),
  taken: (identifier: string, title: string): Msg =>
    msg(
      '{identifier} is already registered, to {customer}. Each device is registered once: open it there, or check the identifier.',
      { identifier, customer: title },
    ),
  raced: msg('This identifier was registered a moment ago by someone else. Check it and try again.'),
  unchanged: msg('Nothing changed: edit the name or the identifier first.'),
};

/** Another asset of the tenant with this identifier: the customer it belongs to, for the message. */
async function identifierTaken(trx: Trx, actor: Actor, identifier: string, exceptId?: string): Promise<string | null> {
  const q = trx('assets as a')
    .join('customers as c', function () {
      this.on('c.tenant_id', 'a.tenant_id').andOn('c.id', 'a.customer_id');
    })
    .where({ 'a.tenant_id': actor.tenantId, 'a.identifier': identifier });
  if (exceptId) q.whereNot('a.id', exceptId);
  const row = await q.first<{ title: string } | undefined>('c.title');
  return row?.title ?? null;
}

const uniqueIdentifier = (err: unknown) => {
  if (isUniqueViolation(err)) throw new ValidationError({ identifier: STAFF_DEVICE_MESSAGES.raced });
  throw err;
};

export type StaffDeviceForm = { identifier: string; name: string; groupId: string; plan: string };

/**
 * Registers a device for the customer: inactive until staff (or the customer's request) activate it.
 * The group must be one of the customer's (none only for a customer without groups); the plan is
 * monthly unless chosen.
 */
export async function registerDevice(
  db: Db,
  actor: Actor,
  customerId: string,
  form: StaffDeviceForm,
): Promise<{ assetId: string }> {
  authorize(actor, 'asset.staff_manage');
  const identifier = form.identifier.trim();
  const name = form.name.trim();
  const errors: Record<string, Msg> = deviceFieldProblems(identifier, name);
  const plan = (form.plan || 'monthly') as Plan;
  if (!PLANS.includes(plan)) errors.plan = STAFF_DEVICE_MESSAGES.plan;
  return asActor(db, actor, async (trx) => {
    const customer = await customerOf(trx, actor, customerId);
    const groups = await groupChoicesFor(trx, actor, customer.id);
    const group = groups.find((g) => g.id === form.groupId);
    if (!group && (form.groupId || groups.length)) errors.group_id = STAFF_DEVICE_MESSAGES.group;
    if (!errors.identifier) {
      const takenBy = await identifierTaken(trx, actor, identifier);
      if (takenBy) errors.identifier = STAFF_DEVICE_MESSAGES.taken(identifier, takenBy);
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);
    const [assetId] = await insertDevices(trx, actor, [
      { customerId: customer.id, groupId: group?.id ?? null, groupPath: group?.path ?? '', identifier, name, plan },
    ]).catch(uniqueIdentifier);
    return { assetId: assetId! };
  });
}

export type NewDevice = {
  customerId: string;
  groupId: string | null;
  groupPath: string;
  identifier: string;
  name: string;
  plan: Plan;
};

/**
 * Writes checked new devices, inactive, each with its registration in the history and the
 * customer's audit log: by a staff member (the form) or by the device import (CSV), in batches.
 * Returns the new assets' ids, in order.
 */
export async function insertDevices(
  trx: Trx,
  by: Actor | { system: string; tenantId: string },
  devices: NewDevice[],
): Promise<string[]> {
  const ids: string[] = [];
  const label = 'system' in by ? by.system : actorLabel(by);
  const userId = 'system' in by ? null : by.userId;
  const who = { requested_by: userId, requested_by_label: label, decided_by: userId, decided_by_label: label };
  for (let start = 0; start < devices.length; start += 1000) {
    const batch = devices.slice(start, start + 1000);
    const assets = await trx('assets')
      .insert(
        batch.map((d) => ({
          tenant_id: by.tenantId,
          customer_id: d.customerId,
          group_id: d.groupId,
          group_path: d.groupPath,
          identifier: d.identifier,
          name: d.name,
          plan: d.plan,
          status: 'inactive',
        })),
      )
      .returning<AssetRow[]>([...ASSET_COLUMNS]);
    await trx('asset_requests').insert(
      assets.map((a) => ({
        tenant_id: a.tenant_id,
        asset_id: a.id,
        customer_id: a.customer_id,
        kind: 'registration',
        state: 'applied',
        ...who,
        decided_at: trx.fn.now(),
      })),
    );
    for (const a of assets) {
      await auditAsset(
        trx,
        by,
        a,
        'asset.registered',
        {},
        {
          name: a.name,
          group_path: a.group_path,
          plan: a.plan,
          status: 'inactive',
        },
      );
      ids.push(a.id);
    }
  }
  return ids;
}

/** Changes the device's name and identifier; the history says what changed. */
export async function editDevice(
  db: Db,
  actor: Actor,
  customerId: string,
  assetId: string,
  form: { identifier: string; name: string },
): Promise<void> {
  authorize(actor, 'asset.staff_manage');
  const identifier = form.identifier.trim();
  const name = form.name.trim();
  await asActor(db, actor, async (trx) => {
    // an asset outside the customer is 404 before its form is judged
    const asset = await lockForAction(trx, actor, assetId, 'edit', customerId);
    const errors: Record<string, Msg> = deviceFieldProblems(identifier, name);
    if (!errors.identifier && identifier !== asset.identifier) {
      const takenBy = await identifierTaken(trx, actor, identifier, asset.id);
      if (takenBy) errors.identifier = STAFF_DEVICE_MESSAGES.taken(identifier, takenBy);
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);
    const changes: string[] = [];
    if (identifier !== asset.identifier) changes.push(`identifier ${asset.identifier} → ${identifier}`);
    if (name !== asset.name) changes.push(`name “${asset.name}” → “${name}”`);
    if (!changes.length) throw new ValidationError({ form: STAFF_DEVICE_MESSAGES.unchanged });
    await updateAsset(trx, asset, { identifier, name }).catch(uniqueIdentifier);
    await insertRequest(trx, actor, asset, {
      kind: 'details_change',
      state: 'applied',
      reason: changes.join('; '),
      ...decidedBy(trx, actor),
    });
    await auditAsset(trx, actor, asset, 'asset.details_changed', { name: asset.name }, { identifier, name });
  });
}

/** Moves the device to another group of its customer, at once. */
export async function moveDevice(
  db: Db,
  actor: Actor,
  customerId: string,
  assetId: string,
  groupId: string,
): Promise<{ path: string }> {
  authorize(actor, 'asset.staff_manage');
  return asActor(db, actor, async (trx) =>
    moveLocked(trx, actor, await lockForAction(trx, actor, assetId, 'move', customerId), groupId),
  );
}

/**
 * Activates the device now: its term starts today. A pending activation or reactivation the customer
 * asked for is approved by it; otherwise the history keeps an activation applied by staff.
 */
export async function activateDevice(
  db: Db,
  actor: Actor,
  customerId: string,
  assetId: string,
  now: Date,
): Promise<{ identifier: string }> {
  authorize(actor, 'asset.staff_manage');
  return asActor(db, actor, async (trx) => {
    const asset = await lockForAction(trx, actor, assetId, 'activate_directly', customerId);
    const { before, after } = activation(asset, actor, now);
    await updateAsset(trx, asset, after);
    const approved = await trx('asset_requests')
      .where({ tenant_id: asset.tenant_id, asset_id: asset.id, state: 'pending' })
      .whereIn('kind', ['activation', 'reactivation'])
      .update({ state: 'approved', ...decidedBy(trx, actor) });
    if (!approved) {
      const kind = activationKind(subjectOf(asset));
      await insertRequest(trx, actor, asset, { kind, state: 'applied', ...decidedBy(trx, actor) });
    }
    await auditAsset(trx, actor, asset, 'asset.activated', before, after);
    return { identifier: asset.identifier };
  });
}

/**
 * Deactivates the device now: the subscription ends and nothing renews. A pending deactivation is
 * applied by it; otherwise the history keeps a deactivation applied by staff, effective today.
 */
export async function deactivateDevice(
  db: Db,
  actor: Actor,
  customerId: string,
  assetId: string,
  now: Date,
): Promise<{ identifier: string }> {
  authorize(actor, 'asset.staff_manage');
  return asActor(db, actor, async (trx) => {
    const asset = await lockForAction(trx, actor, assetId, 'deactivate_directly', customerId);
    await updateAsset(trx, asset, DEACTIVATED);
    const applied = await trx('asset_requests')
      .where({ tenant_id: asset.tenant_id, asset_id: asset.id, state: 'pending', kind: 'deactivation' })
      .update({ state: 'applied', ...decidedBy(trx, actor) });
    if (!applied)
      await insertRequest(trx, actor, asset, {
        kind: 'deactivation',
        state: 'applied',
        effective_on: todayIn(actor.timeZone, now),
        ...decidedBy(trx, actor),
      });
    const before = {
      status: asset.status,
      next_renewal_on: asset.next_renewal_on,
      renewal_unconfirmed: asset.renewal_unconfirmed,
    };
    await auditAsset(trx, actor, asset, 'asset.deactivated', before, DEACTIVATED);
    return { identifier: asset.identifier };
  });
}
