import type { Db, Trx } from '../../db/index.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { formatDateTime } from '../platform/time-format.js';
import { isUuid } from '../customers/rules.js';
import { parseGeofence, type GeofencePolygon } from './geofence-rules.js';
import { type Actor, asActor, authorize, scopeSites } from '../access/index.js';
import { cutText } from '../platform/text-rules.js';

/** Provider staff: the tenant's sites, their geofences and customers, and a site's page. */

export type SiteForm = { name: string; address: string; customer_id: string; geofence: string };
export type StaffSite = {
  id: string;
  name: string;
  address: string | null;
  customer_id: string | null;
  customer_title: string | null;
  geofence: GeofencePolygon;
  created_at: Date;
  updated_at: Date;
};
export type ServiceRow = { id: string; name: string };

const SITE_COLUMNS = [
  's.id',
  's.name',
  's.address',
  's.customer_id',
  'c.title as customer_title',
  's.geofence',
  's.created_at',
  's.updated_at',
];

function sitesWithCustomer(trx: Trx, actor: Actor) {
  return scopeSites(trx, actor, 's').leftJoin('customers as c', function () {
    this.on('c.tenant_id', 's.tenant_id').andOn('c.id', 's.customer_id');
  });
}

/** The site if the actor reaches it (404 otherwise); locked for the rest of the transaction when asked. */
export async function findSite(trx: Trx, actor: Actor, siteId: string, lock = false): Promise<StaffSite> {
  if (!isUuid(siteId)) throw new NotFoundError();
  const q = sitesWithCustomer(trx, actor).where('s.id', siteId).first<StaffSite | undefined>(SITE_COLUMNS);
  if (lock) q.forUpdate('s');
  const site = await q;
  if (!site) throw new NotFoundError();
  return site;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export async function listSites(db: Db, actor: Actor, opts: { q?: string } = {}) {
  authorize(actor, 'site.staff_view');
  const q = cutText((opts.q ?? '').trim(), 200);
  return asActor(db, actor, async (trx) => {
    const query = sitesWithCustomer(trx, actor)
      .orderByRaw('lower(s.name), s.id')
      .limit(500)
      .select(...SITE_COLUMNS.filter((c) => c !== 's.geofence'), {
        last_visit: trx('service_visits as v')
          .whereRaw('v.tenant_id = s.tenant_id and v.site_id = s.id')
          .max('v.ended_at'),
      });
    if (q)
      query.where((w) => w.whereILike('s.name', `%${escapeLike(q)}%`).orWhereILike('c.title', `%${escapeLike(q)}%`));
    const sites = (await query) as (Omit<StaffSite, 'geofence'> & { last_visit: Date | null })[];
    const services = await trx('services')
      .where({ tenant_id: actor.tenantId })
      .orderByRaw('lower(name)')
      .select<ServiceRow[]>('id', 'name');
    return {
      q,
      sites: sites.map((s) => ({
        ...s,
        lastVisitLabel: s.last_visit ? formatDateTime(s.last_visit, actor.timeZone) : '',
      })),
      services,
    };
  });
}

/** The customers a site can be attached to. */
export async function siteCustomerChoices(db: Db, actor: Actor): Promise<{ id: string; title: string }[]> {
  authorize(actor, 'site.manage');
  return asActor(db, actor, (trx) =>
    trx('customers').where({ tenant_id: actor.tenantId }).orderByRaw('lower(title)').select('id', 'title'),
  );
}

async function checkSiteForm(trx: Trx, actor: Actor, form: SiteForm) {
  const errors: Record<string, string> = {};
  const name = form.name.trim();
  if (!name) errors.name = "Enter the site's name.";
  else if (name.length > 200) errors.name = 'Use at most 200 characters.';
  const address = form.address.trim();
  if (address.length > 500) errors.address = 'Use at most 500 characters.';
  let customerId: string | null = null;
  if (form.customer_id) {
    const customer = isUuid(form.customer_id)
      ? await trx('customers').where({ tenant_id: actor.tenantId, id: form.customer_id }).first('id')
      : undefined;
    if (!customer) errors.customer_id = 'Choose a customer from the list.';
    else customerId = form.customer_id;
  }
  const geofence = parseGeofence(form.geofence);
  if (!geofence.ok) errors.geofence = geofence.message;
  if (Object.keys(errors).length || !geofence.ok) throw new ValidationError(errors);
  const { polygon, bbox } = geofence.geofence;
  return {
    name,
    address: address || null,
    customer_id: customerId,
    geofence: JSON.stringify(polygon),
    min_latitude: bbox.minLatitude,
    min_longitude: bbox.minLongitude,
    max_latitude: bbox.maxLatitude,
    max_longitude: bbox.maxLongitude,
  };
}

const snapshot = (s: { name: string; address: string | null; customer_id: string | null }) => ({
  name: s.name,
  address: s.address,
  customerId: s.customer_id,
});

export async function createSite(db: Db, actor: Actor, form: SiteForm): Promise<{ id: string; name: string }> {
  authorize(actor, 'site.manage');
  return asActor(db, actor, async (trx) => {
    const row = await checkSiteForm(trx, actor, form);
    const [site] = (await trx('sites')
      .insert({ tenant_id: actor.tenantId, ...row })
      .returning(['id', 'name'])) as { id: string; name: string }[];
    await audit(trx, actor, {
      entityType: 'site',
      entityId: site!.id,
      action: 'site.created',
      customerId: row.customer_id,
      after: snapshot(row),
    });
    return site!;
  });
}

/** Saves a site; moving it to another customer takes it away from the old customer's site viewers. */
export async function updateSite(
  db: Db,
  actor: Actor,
  siteId: string,
  form: SiteForm,
): Promise<{ id: string; name: string }> {
  authorize(actor, 'site.manage');
  return asActor(db, actor, async (trx) => {
    const before = await findSite(trx, actor, siteId, true);
    const row = await checkSiteForm(trx, actor, form);
    await trx('sites')
      .where({ tenant_id: actor.tenantId, id: before.id })
      .update({ ...row, updated_at: trx.fn.now() });
    if (before.customer_id !== row.customer_id) {
      await trx('membership_sites').where({ tenant_id: actor.tenantId, site_id: before.id }).del();
    }
    const geofenceChanged = JSON.stringify(before.geofence) !== row.geofence;
    await audit(trx, actor, {
      entityType: 'site',
      entityId: before.id,
      action: 'site.updated',
      customerId: row.customer_id ?? before.customer_id,
      before: { ...snapshot(before), ...(geofenceChanged ? { geofence: before.geofence } : {}) },
      after: { ...snapshot(row), ...(geofenceChanged ? { geofence: JSON.parse(row.geofence) as unknown } : {}) },
    });
    return { id: before.id, name: row.name };
  });
}

export async function siteForEdit(db: Db, actor: Actor, siteId: string): Promise<StaffSite> {
  authorize(actor, 'site.manage');
  return asActor(db, actor, (trx) => findSite(trx, actor, siteId));
}

/** A site's staff page: the site, its latest visits (with their pictures) and its own pictures. */
export async function getStaffSite(db: Db, actor: Actor, siteId: string) {
  authorize(actor, 'site.staff_view');
  return asActor(db, actor, async (trx) => {
    const site = await findSite(trx, actor, siteId);
    const visits = (await trx('service_visits as v')
      .leftJoin('services as sv', function () {
        this.on('sv.tenant_id', 'v.tenant_id').andOn('sv.id', 'v.service_id');
      })
      .where({ 'v.tenant_id': actor.tenantId, 'v.site_id': site.id })
      .orderBy([{ column: 'v.started_at', order: 'desc' }, { column: 'v.id' }])
      .limit(50)
      .select(
        'v.id',
        'v.vehicle',
        'v.started_at',
        'v.ended_at',
        'v.completed',
        'v.notes',
        'v.source',
        'sv.name as service_name',
      )) as {
      id: string;
      vehicle: string;
      started_at: Date;
      ended_at: Date;
      completed: boolean;
      notes: string | null;
      source: string;
      service_name: string | null;
    }[];
    const pictures = (await trx('pictures')
      .where({ tenant_id: actor.tenantId, site_id: site.id })
      .orderBy('created_at', 'desc')
      .limit(200)
      .select('id', 'visit_id', 'caption', 'byte_size')) as {
      id: string;
      visit_id: string | null;
      caption: string | null;
      byte_size: number;
    }[];
    const services = await trx('services')
      .where({ tenant_id: actor.tenantId })
      .orderByRaw('lower(name)')
      .select<ServiceRow[]>('id', 'name');
    const url = (p: { id: string }) => `/admin/sites/${site.id}/pictures/${p.id}`;
    return {
      site,
      services,
      visits: visits.map((v) => ({
        ...v,
        timeLabel: `${formatDateTime(v.started_at, actor.timeZone)} to ${formatDateTime(v.ended_at, actor.timeZone)}`,
        pictures: pictures.filter((p) => p.visit_id === v.id).map((p) => ({ ...p, url: url(p) })),
      })),
      sitePictures: pictures.filter((p) => !p.visit_id).map((p) => ({ ...p, url: url(p) })),
    };
  });
}
