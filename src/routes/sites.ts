import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { ValidationError } from '../errors.js';
import { allow } from '../web/auth.js';
import { can, customerTabsFor } from '../services/access/index.js';
import {
  addPicture,
  completedServices,
  createService,
  createSite,
  type DateRange,
  getPortalAccess,
  getStaffSite,
  listSites,
  LIVE_VIEW_LABELS,
  LIVE_VIEW_PERMISSIONS,
  openLoginLink,
  PICTURE_MAX_BYTES,
  type PictureFile,
  pictureForViewer,
  rangeFrom,
  recordVisit,
  setPortalAccess,
  siteCustomerChoices,
  siteForEdit,
  type SiteForm,
  siteForViewer,
  siteGallery,
  siteMap,
  staffPicture,
  updateSite,
  vehicleVisits,
  type VisitForm,
} from '../services/sites/index.js';
import { formatDateTime } from '../services/platform/index.js';
import { formText } from '../web/forms.js';

/** The site map of site viewers, the staff's sites screens, a customer's portal access, and opening a login link. */

const text = (max: number) => formText().transform((v) => v.slice(0, max));
const SiteBody = z.object({ name: text(1000), address: text(1000), customer_id: text(100), geofence: text(250_000) });
const VisitBody = z.object({
  service_id: text(100),
  vehicle: text(1000),
  started_at: text(40),
  ended_at: text(40),
  completed: text(10),
  notes: text(5000),
});
const idOf = (req: Request) => String(req.params.id ?? '').slice(0, 100);
const noStore = (res: Response) => res.set('Cache-Control', 'no-store');

/** The range's query string, to carry the chosen dates from the map to a site and back. */
const rangeQuery = (range: DateRange, serviceId?: string | null) =>
  `?${new URLSearchParams({ from: range.from, to: range.to, ...(serviceId ? { service: serviceId } : {}) }).toString()}`;

function sendPicture(res: Response, picture: PictureFile) {
  // pictures are shown only to those allowed: never cached where a revoked permission would not reach
  res
    .set({ 'Cache-Control': 'private, no-store', 'Content-Disposition': 'inline' })
    .type(picture.contentType)
    .send(picture.bytes);
}

export function siteRoutes(ctx: AppContext): Router {
  const router = Router();
  const tiles = { url: ctx.config.mapTileUrl ?? '', attribution: ctx.config.mapTileAttribution };
  const rangeOf = (req: Request) => rangeFrom(req.query, req.actor!.timeZone, ctx.clock.now());

  // ---- site viewers: the map, a site's page and its sections ----
  router.get('/sites', ...allow('site.view'), async (req, res) => {
    const { range, error } = rangeOf(req);
    const serviceId = typeof req.query.service === 'string' ? req.query.service.slice(0, 100) : '';
    const map = await siteMap(ctx.db, req.actor!, { range, serviceId });
    const query = rangeQuery(range, map.serviceId);
    res.renderPage(
      'sites/index',
      { title: 'Your sites', ...map, range, query, error, tiles },
      { fragment: 'sites/_area', status: error ? 422 : 200 },
    );
  });

  const siteSection = (name: 'services' | 'vehicle-visits' | 'gallery') => async (req: Request, res: Response) => {
    const { range } = rangeOf(req);
    const site = await siteForViewer(ctx.db, req.actor!, idOf(req));
    const data: Record<string, unknown> = { site, range, query: rangeQuery(range) };
    if (name === 'services') data.services = await completedServices(ctx.db, req.actor!, site.id, range);
    if (name === 'vehicle-visits') data.vehicleVisits = await vehicleVisits(ctx.db, req.actor!, site.id, range);
    if (name === 'gallery') data.gallery = await siteGallery(ctx.db, req.actor!, site.id);
    res.renderPage('sites/section', { title: site.name, ...data, section: name }, { fragment: `sites/_${name}` });
  };

  router.get('/sites/:id', ...allow('site.view'), async (req, res) => {
    const { range, error } = rangeOf(req);
    const site = await siteForViewer(ctx.db, req.actor!, idOf(req));
    const { access } = site;
    const data = {
      title: site.name,
      site,
      range,
      error,
      tiles,
      query: rangeQuery(range),
      services: access.view_jobs ? await completedServices(ctx.db, req.actor!, site.id, range) : null,
      vehicleVisits: access.view_vehicle_visits ? await vehicleVisits(ctx.db, req.actor!, site.id, range) : null,
      gallery: access.view_site_pictures ? await siteGallery(ctx.db, req.actor!, site.id) : null,
    };
    res.renderPage('sites/show', data, { fragment: 'sites/_detail', status: error ? 422 : 200 });
  });

  router.get('/sites/:id/services', ...allow('site.view'), siteSection('services'));
  router.get('/sites/:id/vehicle-visits', ...allow('site.view'), siteSection('vehicle-visits'));
  router.get('/sites/:id/pictures', ...allow('site.view'), siteSection('gallery'));
  router.get('/sites/:id/pictures/:pictureId', ...allow('site.view'), async (req, res) => {
    sendPicture(res, await pictureForViewer(ctx.db, req.actor!, idOf(req), String(req.params.pictureId).slice(0, 100)));
  });

  // ---- opening a login link: a session that reaches only the site map, then at once a URL without the token ----
  router.get('/link/:token', async (req, res) => {
    noStore(res);
    const result = await openLoginLink(ctx.db, ctx.clock.now(), String(req.params.token).slice(0, 200), {
      address: req.ip ?? 'unknown',
    });
    if (!result.ok) {
      req.log.info({ event: 'login_link_refused', reason: result.reason }, 'login link refused');
      const expired =
        result.reason === 'expired' ? { expiredLabel: formatDateTime(result.expiredAt, 'UTC'), ask: result.ask } : null;
      return res.renderPage(
        'account/link/refused',
        { title: expired ? 'This link has expired' : 'This link does not work', expired },
        { status: expired ? 410 : 404 },
      );
    }
    await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
    const at = ctx.clock.now().getTime();
    Object.assign(req.session, {
      userId: result.userId,
      membershipId: result.membershipId,
      viaLink: true,
      createdAt: at,
      lastSeenAt: at,
      userAgent: req.get('user-agent')?.slice(0, 300) ?? null,
    });
    req.log.info({ event: 'login_link_used', userId: result.userId, address: req.ip }, 'signed in with a login link');
    res.redirect(303, '/sites');
  });

  // ---- provider staff: sites, services, visits, pictures ----
  const renderSiteForm = async (
    req: Request,
    res: Response,
    opts: { siteId?: string; values: SiteForm; errors?: Record<string, string>; status?: number },
  ) => {
    const customers = await siteCustomerChoices(ctx.db, req.actor!);
    const title = opts.siteId ? `Edit ${opts.values.name || 'site'}` : 'New site';
    res.renderPage(
      'admin/sites/form',
      { title, customers, ...opts, errors: opts.errors ?? {} },
      { status: opts.status },
    );
  };

  const renderStaffSite = async (
    req: Request,
    res: Response,
    extra: { visitValues?: Partial<VisitForm>; visitErrors?: Record<string, string>; status?: number } = {},
  ) => {
    const detail = await getStaffSite(ctx.db, req.actor!, idOf(req));
    res.renderPage(
      'admin/sites/show',
      {
        title: detail.site.name,
        ...detail,
        tiles,
        canManage: can(req.actor, 'site.manage'),
        visitValues: extra.visitValues ?? { completed: true },
        visitErrors: extra.visitErrors ?? {},
        pictureMaxMb: PICTURE_MAX_BYTES / 1024 / 1024,
      },
      { status: extra.status },
    );
  };

  router.get('/admin/sites', ...allow('site.staff_view'), async (req, res) => {
    const list = await listSites(ctx.db, req.actor!, { q: typeof req.query.q === 'string' ? req.query.q : '' });
    res.renderPage(
      'admin/sites/index',
      { title: 'Sites', ...list, canManage: can(req.actor, 'site.manage'), serviceErrors: {} },
      { fragment: 'admin/sites/_table' },
    );
  });

  router.post('/admin/services', ...allow('site.manage'), async (req, res) => {
    const name = text(1000).parse((req.body as { service_name?: unknown } | undefined)?.service_name);
    try {
      const service = await createService(ctx.db, req.actor!, name);
      res.flash('success', `Service ${service.name} added.`);
      res.redirect(303, '/admin/sites');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const list = await listSites(ctx.db, req.actor!);
      res.renderPage(
        'admin/sites/index',
        { title: 'Sites', ...list, canManage: true, serviceErrors: err.fields, serviceName: name },
        { status: 422 },
      );
    }
  });

  router.get('/admin/sites/new', ...allow('site.manage'), (req, res) =>
    renderSiteForm(req, res, {
      values: {
        name: '',
        address: '',
        customer_id: typeof req.query.customer === 'string' ? req.query.customer : '',
        geofence: '',
      },
    }),
  );

  router.post('/admin/sites', ...allow('site.manage'), async (req, res) => {
    const form = SiteBody.parse(req.body ?? {});
    try {
      const site = await createSite(ctx.db, req.actor!, form);
      res.flash('success', `Site ${site.name} created.`);
      res.redirect(303, `/admin/sites/${site.id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await renderSiteForm(req, res, { values: form, errors: err.fields, status: 422 });
    }
  });

  router.get('/admin/sites/:id', ...allow('site.staff_view'), (req, res) => renderStaffSite(req, res));

  router.get('/admin/sites/:id/edit', ...allow('site.manage'), async (req, res) => {
    const site = await siteForEdit(ctx.db, req.actor!, idOf(req));
    await renderSiteForm(req, res, {
      siteId: site.id,
      values: {
        name: site.name,
        address: site.address ?? '',
        customer_id: site.customer_id ?? '',
        geofence: JSON.stringify(site.geofence, null, 1),
      },
    });
  });

  router.post('/admin/sites/:id', ...allow('site.manage'), async (req, res) => {
    const form = SiteBody.parse(req.body ?? {});
    try {
      const site = await updateSite(ctx.db, req.actor!, idOf(req), form);
      res.flash('success', `Site ${site.name} saved.`);
      res.redirect(303, `/admin/sites/${site.id}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await renderSiteForm(req, res, { siteId: idOf(req), values: form, errors: err.fields, status: 422 });
    }
  });

  router.post('/admin/sites/:id/visits', ...allow('site.manage'), async (req, res) => {
    const body = VisitBody.parse(req.body ?? {});
    const form: VisitForm = { ...body, completed: body.completed === 'on' };
    try {
      await recordVisit(ctx.db, req.actor!, idOf(req), form);
      res.flash('success', `Visit by ${form.vehicle.trim()} recorded.`);
      res.redirect(303, `/admin/sites/${idOf(req)}`);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      await renderStaffSite(req, res, { visitValues: form, visitErrors: err.fields, status: 422 });
    }
  });

  // the picture arrives as the request body itself (public/picture-upload.js sends the chosen file), so no multipart parser is needed
  router.post(
    '/admin/sites/:id/pictures',
    ...allow('site.manage'),
    express.raw({ type: () => true, limit: PICTURE_MAX_BYTES + 1024 }),
    async (req, res) => {
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const visitId = typeof req.query.visit === 'string' ? req.query.visit.slice(0, 100) : '';
      const caption = typeof req.query.caption === 'string' ? req.query.caption.slice(0, 200) : '';
      try {
        await addPicture(ctx.db, req.actor!, idOf(req), { visitId, caption, bytes });
        res.flash('success', 'Picture uploaded.');
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        res.flash('error', err.fields.picture ?? err.message);
      }
      res.redirect(303, `/admin/sites/${idOf(req)}`);
    },
  );

  router.get('/admin/sites/:id/pictures/:pictureId', ...allow('site.staff_view'), async (req, res) => {
    sendPicture(res, await staffPicture(ctx.db, req.actor!, idOf(req), String(req.params.pictureId).slice(0, 100)));
  });

  // ---- provider staff: a customer's portal access ----
  const permissions = LIVE_VIEW_PERMISSIONS.map((key) => ({ key, ...LIVE_VIEW_LABELS[key] }));
  router.get('/admin/customers/:id/portal-access', ...allow('portal_access.manage'), async (req, res) => {
    const { customer, access } = await getPortalAccess(ctx.db, req.actor!, idOf(req));
    res.renderPage('admin/customers/portal-access/index', {
      title: `Portal access · ${customer.title}`,
      customer,
      access,
      permissions,
      tabs: customerTabsFor(req.actor!, customer.id),
    });
  });

  router.post('/admin/customers/:id/portal-access', ...allow('portal_access.manage'), async (req, res) => {
    const { customer, access } = await setPortalAccess(
      ctx.db,
      req.actor!,
      idOf(req),
      (req.body ?? {}) as Record<string, unknown>,
    );
    res.flash(
      'success',
      access.enabled
        ? `Portal access for ${customer.title} saved: its site viewers can use the site map.`
        : `Portal access for ${customer.title} saved: the site map is off for its people.`,
    );
    res.redirect(303, `/admin/customers/${customer.id}/portal-access`);
  });

  return router;
}
