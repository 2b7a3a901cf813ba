import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { type ActorHandler, allow } from '../web/auth.js';
import { formText, idParam } from '../web/forms.js';
import { sendPicture } from '../web/pictures.js';
import type { Actor } from '../services/access/index.js';
import {
  completedServices,
  type DateRange,
  pictureForViewer,
  rangeFrom,
  siteForViewer,
  siteGallery,
  siteMap,
  vehicleVisits,
} from '../services/sites/index.js';
import { msg } from '../services/platform/index.js';

/** Site viewers: the map of their sites, a site's page and its sections, and its pictures. */

const Params = z.object({ id: idParam(), pictureId: idParam() });
const MapQuery = z.object({ service: formText(100) });

/** The range's query string, to carry the chosen dates from the map to a site and back. */
const rangeQuery = (range: DateRange, serviceId?: string | null) => {
  const params = new URLSearchParams({ from: range.from, to: range.to, ...(serviceId ? { service: serviceId } : {}) });
  return `?${params.toString()}`;
};

export function siteRoutes(ctx: AppContext): Router {
  const router = Router();
  const tiles = { url: ctx.config.mapTileUrl ?? '', attribution: ctx.config.mapTileAttribution };
  const rangeOf = (req: Request, actor: Actor) => rangeFrom(req.query, actor.timeZone, ctx.clock.now());

  router.get(
    '/sites',
    ...allow('site.view', async (req, res, actor) => {
      const { range, error } = rangeOf(req, actor);
      const map = await siteMap(ctx.db, actor, { range, serviceId: MapQuery.parse(req.query).service });
      const query = rangeQuery(range, map.serviceId);
      res.renderPage(
        'sites/index',
        { title: msg('Your sites'), ...map, range, query, error, tiles },
        { fragment: 'sites/_area', status: error ? 422 : 200 },
      );
    }),
  );

  /** One section of a site's page, which htmx loads on its own when the dates change. */
  const siteSection =
    (name: 'services' | 'vehicle-visits' | 'gallery'): ActorHandler =>
    async (req, res, actor) => {
      const { range } = rangeOf(req, actor);
      const site = await siteForViewer(ctx.db, actor, Params.parse(req.params).id);
      const data: Record<string, unknown> = { site, range, query: rangeQuery(range) };
      if (name === 'services') data.services = await completedServices(ctx.db, actor, site.id, range);
      if (name === 'vehicle-visits') data.vehicleVisits = await vehicleVisits(ctx.db, actor, site.id, range);
      if (name === 'gallery') data.gallery = await siteGallery(ctx.db, actor, site.id);
      res.renderPage(
        'sites/section',
        { title: msg('{name}', { name: site.name }), ...data, section: name },
        { fragment: `sites/_${name}` },
      );
    };

  router.get(
    '/sites/:id',
    ...allow('site.view', async (req, res, actor) => {
      const { range, error } = rangeOf(req, actor);
      const site = await siteForViewer(ctx.db, actor, Params.parse(req.params).id);
      const { access } = site;
      const data = {
        title: msg('{name}', { name: site.name }),
        site,
        range,
        error,
        tiles,
        query: rangeQuery(range),
        services: access.view_jobs ? await completedServices(ctx.db, actor, site.id, range) : null,
        vehicleVisits: access.view_vehicle_visits ? await vehicleVisits(ctx.db, actor, site.id, range) : null,
        gallery: access.view_site_pictures ? await siteGallery(ctx.db, actor, site.id) : null,
      };
      res.renderPage('sites/show', data, { fragment: 'sites/_detail', status: error ? 422 : 200 });
    }),
  );

  router.get('/sites/:id/services', ...allow('site.view', siteSection('services')));
  router.get('/sites/:id/vehicle-visits', ...allow('site.view', siteSection('vehicle-visits')));
  router.get('/sites/:id/pictures', ...allow('site.view', siteSection('gallery')));
  router.get(
    '/sites/:id/pictures/:pictureId',
    ...allow('site.view', async (req, res, actor) => {
      const { id, pictureId } = Params.parse(req.params);
      sendPicture(res, await pictureForViewer(ctx.db, actor, id, pictureId));
    }),
  );

  return router;
}
