import type { Db } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { localDateTimeToInstant, PICTURE_MAX_BYTES, pictureType, visitProblems } from './rules.js';
import { findSite, type ServiceRow } from './sites.js';
import { cutText } from '../platform/text-rules.js';
import { msg } from '../platform/index.js';

/** Provider staff record what happens at a site: the services they offer, visits, and pictures. */

export type VisitForm = {
  service_id: string;
  vehicle: string;
  started_at: string;
  ended_at: string;
  completed: boolean;
  notes: string;
};

export async function createService(db: Db, actor: Actor, rawName: string): Promise<ServiceRow> {
  authorize(actor, 'site.manage');
  const name = rawName.trim();
  if (!name) throw new ValidationError({ service_name: msg("Enter the service's name.") });
  if (name.length > 120) throw new ValidationError({ service_name: msg('Use at most 120 characters.') });
  return asActor(db, actor, async (trx) => {
    const taken = await trx('services')
      .where({ tenant_id: actor.tenantId })
      .whereRaw('lower(name) = lower(?)', [name])
      .first('id');
    if (taken) throw new ValidationError({ service_name: msg('A service with this name already exists.') });
    const [service] = (await trx('services')
      .insert({ tenant_id: actor.tenantId, name })
      .returning(['id', 'name'])) as ServiceRow[];
    await audit(trx, actor, {
      entityType: 'service',
      entityId: service!.id,
      action: 'service.created',
      after: { name },
    });
    return service!;
  });
}

/** Records a visit by hand; times are the staff member's wall clock. */
export async function recordVisit(db: Db, actor: Actor, siteId: string, form: VisitForm): Promise<{ id: string }> {
  authorize(actor, 'site.manage');
  return asActor(db, actor, async (trx) => {
    const site = await findSite(trx, actor, siteId);
    const startedAt = localDateTimeToInstant(form.started_at, actor.timeZone);
    const endedAt = localDateTimeToInstant(form.ended_at, actor.timeZone);
    const errors = visitProblems({ vehicle: form.vehicle, startedAt, endedAt, notes: form.notes });
    if (form.started_at && !startedAt) errors.started_at = 'Enter a date and time.';
    if (form.ended_at && !endedAt) errors.ended_at = 'Enter a date and time.';
    let serviceId: string | null = null;
    if (form.service_id) {
      const service = isUuid(form.service_id)
        ? await trx('services').where({ tenant_id: actor.tenantId, id: form.service_id }).first('id')
        : undefined;
      if (!service) errors.service_id = 'Choose a service from the list.';
      else serviceId = form.service_id;
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);
    const row = {
      tenant_id: actor.tenantId,
      site_id: site.id,
      service_id: serviceId,
      vehicle: form.vehicle.trim(),
      started_at: startedAt,
      ended_at: endedAt,
      completed: form.completed,
      notes: form.notes.trim() || null,
      source: 'staff',
    };
    const [visit] = (await trx('service_visits').insert(row).returning(['id'])) as { id: string }[];
    await audit(trx, actor, {
      entityType: 'service_visit',
      entityId: visit!.id,
      action: 'service_visit.recorded',
      customerId: site.customer_id,
      after: { site: site.name, serviceId, vehicle: row.vehicle, startedAt, endedAt, completed: form.completed },
    });
    return visit!;
  });
}

/** Stores a picture of a site, or of one of its visits; only PNG, JPEG or WebP, told apart by their bytes. */
export async function addPicture(
  db: Db,
  actor: Actor,
  siteId: string,
  input: { visitId: string; caption: string; bytes: Buffer },
): Promise<{ id: string }> {
  authorize(actor, 'site.manage');
  const caption = cutText(input.caption.trim(), 200) || null;
  return asActor(db, actor, async (trx) => {
    const site = await findSite(trx, actor, siteId);
    if (!input.bytes.length) throw new ValidationError({ picture: msg('Choose a picture to upload.') });
    if (input.bytes.length > PICTURE_MAX_BYTES)
      throw new ValidationError({ picture: msg('The picture is larger than 2 MB.') });
    const contentType = pictureType(input.bytes);
    if (!contentType) throw new ValidationError({ picture: msg('Upload a PNG, JPEG or WebP picture.') });
    let visitId: string | null = null;
    if (input.visitId) {
      const visit = isUuid(input.visitId)
        ? await trx('service_visits')
            .where({ tenant_id: actor.tenantId, site_id: site.id, id: input.visitId })
            .first('id')
        : undefined;
      if (!visit) throw new ConflictError("That visit is not one of this site's.");
      visitId = input.visitId;
    }
    const [picture] = (await trx('pictures')
      .insert({
        tenant_id: actor.tenantId,
        site_id: site.id,
        visit_id: visitId,
        content_type: contentType,
        byte_size: input.bytes.length,
        bytes: input.bytes,
        caption,
      })
      .returning(['id'])) as { id: string }[];
    await audit(trx, actor, {
      entityType: 'picture',
      entityId: picture!.id,
      action: 'picture.added',
      customerId: site.customer_id,
      after: { site: site.name, visitId, contentType, bytes: input.bytes.length },
    });
    return picture!;
  });
}

export async function staffPicture(
  db: Db,
  actor: Actor,
  siteId: string,
  pictureId: string,
): Promise<{ contentType: string; bytes: Buffer }> {
  authorize(actor, 'site.staff_view');
  return asActor(db, actor, async (trx) => {
    const site = await findSite(trx, actor, siteId);
    if (!isUuid(pictureId)) throw new NotFoundError();
    const row = await trx('pictures')
      .where({ tenant_id: actor.tenantId, site_id: site.id, id: pictureId })
      .first<{ content_type: string; bytes: Buffer } | undefined>('content_type', 'bytes');
    if (!row) throw new NotFoundError();
    return { contentType: row.content_type, bytes: row.bytes };
  });
}
