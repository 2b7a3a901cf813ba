import type { Db, Trx } from '../../db/index.js';
import { ForbiddenError, NotFoundError } from '../../errors.js';
import { isUuid } from '../customers/rules.js';
import type { GeofencePolygon } from './geofence-rules.js';
import { type Actor, asActor, authorize, scopeSites } from '../access/index.js';
import { portalAccessOf } from './portal-access.js';
import { intervalOf, type DateRange, type Interval, type LiveViewPermission, type PortalAccess } from './rules.js';
import { formatDateTime } from '../platform/time-format.js';

/**
 * What a site viewer sees: their sites on a map, green when serviced in the chosen dates, and a
 * site's page. Everything is limited twice: to the viewer's own sites (scopeSites), and to what their
 * customer's Live View permissions show. A request for something a permission hides is refused (403),
 * not merely left without a link.
 */

export const VISIT_LIMIT = 200;

export type MapSite = {
  id: string;
  name: string;
  address: string | null;
  geofence: GeofencePolygon;
  serviced: boolean;
  /** the latest completed visit in the range, in the viewer's zone; empty when none */
  lastServicedLabel: string;
  /** the latest completed visit's end, shown in the reader's zone and language */
  lastServicedAt: Date | null;
  url: string;
};

export type ServiceChoice = { id: string; name: string };

const hidden = (what: LiveViewPermission) =>
  new ForbiddenError(
    'Your provider does not show {what, select, filter_by_service {the highlight by service} view_jobs {the services completed at a site} view_vehicle_visits {vehicle site visits} view_site_pictures {the site pictures gallery} view_service_pictures {the pictures of services} other {this}} in this portal.',
  ).withValues({ what });

/** The viewer's customer's portal access; refused while the provider has the portal off for them. */
async function viewerAccess(trx: Trx, actor: Actor): Promise<PortalAccess> {
  authorize(actor, 'site.view');
  const access = actor.customerId ? await portalAccessOf(trx, actor.tenantId, actor.customerId) : null;
  if (!access?.enabled)
    throw new ForbiddenError('The site portal is switched off for {place}. Ask {provider} to switch it on.').withValues(
      {
        place: actor.placeName,
        provider: actor.tenantName,
      },
    );
  return access;
}

export function requirePermission(access: PortalAccess, permission: LiveViewPermission): void {
  if (!access[permission]) throw hidden(permission);
}

/** Completed visits overlapping the interval (see visitInRange in site-rules: the same condition). */
function completedVisitsIn(trx: Trx, tenantId: string, interval: Interval, serviceId: string | null) {
  const q = trx('service_visits as v')
    .where('v.tenant_id', tenantId)
    .where('v.completed', true)
    .where('v.started_at', '<', interval.end)
    .where('v.ended_at', '>', interval.start);
  if (serviceId) q.where('v.service_id', serviceId);
  return q;
}

export type SiteMapView = {
  sites: MapSite[];
  access: PortalAccess;
  services: ServiceChoice[];
  serviceId: string | null;
  serviceName: string | null;
};

/**
 * The viewer's sites with whether each was serviced in the range (by one service, when filtering is
 * allowed and asked for).
 */
export async function siteMap(
  db: Db,
  actor: Actor,
  opts: { range: DateRange; serviceId?: string | null },
): Promise<SiteMapView> {
  return asActor(db, actor, async (trx) => {
    const access = await viewerAccess(trx, actor);
    const serviceId = opts.serviceId || null;
    if (serviceId) requirePermission(access, 'filter_by_service');
    const services = access.filter_by_service
      ? await trx('services')
          .where({ tenant_id: actor.tenantId })
          .orderByRaw('lower(name)')
          .select<ServiceChoice[]>('id', 'name')
      : [];
    const service = serviceId ? services.find((s) => s.id === serviceId) : undefined;
    if (serviceId && !service) throw new NotFoundError('That service does not exist.');
    const interval = intervalOf(opts.range, actor.timeZone);
    const rows = (await scopeSites(trx, actor, 's')
      .orderByRaw('lower(s.name), s.id')
      .select('s.id', 's.name', 's.address', 's.geofence', {
        last_serviced: completedVisitsIn(trx, actor.tenantId, interval, serviceId)
          .whereRaw('v.site_id = s.id')
          .max('v.ended_at'),
      })) as {
      id: string;
      name: string;
      address: string | null;
      geofence: GeofencePolygon;
      last_serviced: Date | null;
    }[];
    return {
      access,
      services,
      serviceId,
      serviceName: service?.name ?? null,
      sites: rows.map((r) => ({
        id: r.id,
        name: r.name,
        address: r.address,
        geofence: r.geofence,
        serviced: r.last_serviced !== null,
        lastServicedLabel: r.last_serviced ? formatDateTime(r.last_serviced, actor.timeZone) : '',
        lastServicedAt: r.last_serviced,
        url: `/sites/${r.id}`,
      })),
    };
  });
}

async function siteInReach(trx: Trx, actor: Actor, siteId: string) {
  if (!isUuid(siteId)) throw new NotFoundError();
  const site = await scopeSites(trx, actor, 's')
    .where('s.id', siteId)
    .first<{ id: string; name: string; address: string | null; geofence: GeofencePolygon } | undefined>(
      's.id',
      's.name',
      's.address',
      's.geofence',
    );
  if (!site) throw new NotFoundError();
  return site;
}

export type SiteHeader = {
  id: string;
  name: string;
  address: string | null;
  geofence: GeofencePolygon;
  access: PortalAccess;
};

/** A site of the viewer's, and the permissions that decide its page's sections. */
export async function siteForViewer(db: Db, actor: Actor, siteId: string): Promise<SiteHeader> {
  return asActor(db, actor, async (trx) => {
    const access = await viewerAccess(trx, actor);
    return { ...(await siteInReach(trx, actor, siteId)), access };
  });
}

export type CompletedService = {
  id: string;
  startedAt: string;
  endedAt: string;
  timeLabel: string;
  /** only with view_service_name (null: a service without a name) */
  serviceName?: string | null;
  /** only with view_vehicle_visits */
  vehicle?: string;
  /** only with view_service_pictures */
  pictures?: { id: string; caption: string; captioned: boolean; url: string }[];
};

/** The services completed at a site in the range ("jobs"), each detail only when its permission allows. */
export async function completedServices(
  db: Db,
  actor: Actor,
  siteId: string,
  range: DateRange,
): Promise<{ services: CompletedService[]; more: boolean; access: PortalAccess }> {
  return asActor(db, actor, async (trx) => {
    const access = await viewerAccess(trx, actor);
    requirePermission(access, 'view_jobs');
    const site = await siteInReach(trx, actor, siteId);
    const interval = intervalOf(range, actor.timeZone);
    const rows = (await completedVisitsIn(trx, actor.tenantId, interval, null)
      .where('v.site_id', site.id)
      .leftJoin('services as sv', function () {
        this.on('sv.tenant_id', 'v.tenant_id').andOn('sv.id', 'v.service_id');
      })
      .orderBy([{ column: 'v.started_at', order: 'desc' }, { column: 'v.id' }])
      .limit(VISIT_LIMIT + 1)
      .select('v.id', 'v.started_at', 'v.ended_at', 'v.vehicle', 'sv.name as service_name')) as {
      id: string;
      started_at: Date;
      ended_at: Date;
      vehicle: string;
      service_name: string | null;
    }[];
    const visits = rows.slice(0, VISIT_LIMIT);
    const pictures =
      access.view_service_pictures && visits.length
        ? ((await trx('pictures')
            .where({ tenant_id: actor.tenantId, site_id: site.id })
            .whereIn(
              'visit_id',
              visits.map((v) => v.id),
            )
            .orderBy('created_at')
            .select('id', 'visit_id', 'caption')) as { id: string; visit_id: string; caption: string | null }[])
        : [];
    const services = visits.map((v) => {
      const s: CompletedService = {
        id: v.id,
        startedAt: v.started_at.toISOString(),
        endedAt: v.ended_at.toISOString(),
        timeLabel: `${formatDateTime(v.started_at, actor.timeZone)} to ${formatDateTime(v.ended_at, actor.timeZone)}`,
      };
      if (access.view_service_name) s.serviceName = v.service_name;
      if (access.view_vehicle_visits) s.vehicle = v.vehicle;
      if (access.view_service_pictures) {
        s.pictures = pictures
          .filter((p) => p.visit_id === v.id)
          .map((p) => ({
            id: p.id,
            caption: p.caption ?? `Picture of ${site.name}`,
            captioned: p.caption !== null,
            url: `/sites/${site.id}/pictures/${p.id}`,
          }));
      }
      return s;
    });
    return { services, more: rows.length > VISIT_LIMIT, access };
  });
}

export type VehicleVisit = {
  id: string;
  vehicle: string;
  startedAt: string;
  endedAt: string;
  timeLabel: string;
  completed: boolean;
};

/** Every vehicle visit at a site in the range, completed or not (view_vehicle_visits). */
export async function vehicleVisits(
  db: Db,
  actor: Actor,
  siteId: string,
  range: DateRange,
): Promise<{ visits: VehicleVisit[]; more: boolean }> {
  return asActor(db, actor, async (trx) => {
    const access = await viewerAccess(trx, actor);
    requirePermission(access, 'view_vehicle_visits');
    const site = await siteInReach(trx, actor, siteId);
    const interval = intervalOf(range, actor.timeZone);
    const rows = (await trx('service_visits as v')
      .where({ 'v.tenant_id': actor.tenantId, 'v.site_id': site.id })
      .where('v.started_at', '<', interval.end)
      .where('v.ended_at', '>', interval.start)
      .orderBy([{ column: 'v.started_at', order: 'desc' }, { column: 'v.id' }])
      .limit(VISIT_LIMIT + 1)
      .select('v.id', 'v.vehicle', 'v.started_at', 'v.ended_at', 'v.completed')) as {
      id: string;
      vehicle: string;
      started_at: Date;
      ended_at: Date;
      completed: boolean;
    }[];
    return {
      visits: rows.slice(0, VISIT_LIMIT).map((v) => ({
        id: v.id,
        vehicle: v.vehicle,
        startedAt: v.started_at.toISOString(),
        endedAt: v.ended_at.toISOString(),
        completed: v.completed,
        timeLabel: `${formatDateTime(v.started_at, actor.timeZone)} to ${formatDateTime(v.ended_at, actor.timeZone)}`,
      })),
      more: rows.length > VISIT_LIMIT,
    };
  });
}

export type GalleryPicture = {
  id: string;
  caption: string;
  captioned: boolean;
  url: string;
  takenLabel: string;
  takenAt: Date;
};

/** The site's own pictures (not those of a visit): view_site_pictures. */
export async function siteGallery(db: Db, actor: Actor, siteId: string): Promise<GalleryPicture[]> {
  return asActor(db, actor, async (trx) => {
    const access = await viewerAccess(trx, actor);
    requirePermission(access, 'view_site_pictures');
    const site = await siteInReach(trx, actor, siteId);
    const rows = (await trx('pictures')
      .where({ tenant_id: actor.tenantId, site_id: site.id })
      .whereNull('visit_id')
      .orderBy('created_at', 'desc')
      .limit(100)
      .select('id', 'caption', 'created_at')) as { id: string; caption: string | null; created_at: Date }[];
    return rows.map((p) => ({
      id: p.id,
      caption: p.caption ?? `Picture of ${site.name}`,
      captioned: p.caption !== null,
      url: `/sites/${site.id}/pictures/${p.id}`,
      takenLabel: formatDateTime(p.created_at, actor.timeZone),
      takenAt: p.created_at,
    }));
  });
}

export type PictureFile = { contentType: string; bytes: Buffer };

/**
 * One picture's bytes for a site viewer: a site picture needs view_site_pictures, a visit's picture
 * needs view_jobs and view_service_pictures (and the visit completed).
 */
export async function pictureForViewer(db: Db, actor: Actor, siteId: string, pictureId: string): Promise<PictureFile> {
  return asActor(db, actor, async (trx) => {
    const access = await viewerAccess(trx, actor);
    const site = await siteInReach(trx, actor, siteId);
    if (!isUuid(pictureId)) throw new NotFoundError();
    const picture = (await trx('pictures as p')
      .leftJoin('service_visits as v', function () {
        this.on('v.tenant_id', 'p.tenant_id').andOn('v.id', 'p.visit_id');
      })
      .where({ 'p.tenant_id': actor.tenantId, 'p.site_id': site.id, 'p.id': pictureId })
      .first('p.content_type', 'p.bytes', 'p.visit_id', 'v.completed')) as
      { content_type: string; bytes: Buffer; visit_id: string | null; completed: boolean | null } | undefined;
    if (!picture) throw new NotFoundError();
    if (picture.visit_id) {
      requirePermission(access, 'view_jobs');
      requirePermission(access, 'view_service_pictures');
      if (!picture.completed) throw new NotFoundError();
    } else {
      requirePermission(access, 'view_site_pictures');
    }
    return { contentType: picture.content_type, bytes: picture.bytes };
  });
}
