import express, { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { formCheckbox, formText, idParam, orRerender } from '../../web/forms.js';
import { sendPicture } from '../../web/pictures.js';
import { type Actor, can } from '../../services/access/index.js';
import {
  addPicture,
  createService,
  createSite,
  getStaffSite,
  listSites,
  PICTURE_MAX_BYTES,
  recordVisit,
  siteCustomerChoices,
  siteForEdit,
  type SiteForm,
  staffPicture,
  updateSite,
  type VisitForm,
} from '../../services/sites/index.js';
import { msg, type Msg } from '../../services/platform/index.js';

/** Provider staff: sites with their geofences, services, visits and pictures. */

const Params = z.object({ id: idParam(), pictureId: idParam() });
const ListQuery = z.object({ q: formText() });
const NewSiteQuery = z.object({ customer: formText() });
const ServiceBody = z.object({ service_name: formText(1000) });
const SiteBody = z.object({
  name: formText(1000),
  address: formText(1000),
  customer_id: formText(100),
  geofence: formText(250_000),
});
const VisitBody = z.object({
  service_id: formText(100),
  vehicle: formText(1000),
  started_at: formText(40),
  ended_at: formText(40),
  completed: formCheckbox(),
  notes: formText(5000),
});
const PictureQuery = z.object({ visit: formText(100), caption: formText(200) });

type SiteFormState = { siteId?: string; values: SiteForm; errors?: Record<string, Msg>; status?: number };
type VisitState = { visitValues?: Partial<VisitForm>; visitErrors?: Record<string, Msg>; status?: number };

export function adminSiteRoutes(ctx: AppContext): Router {
  const router = Router();
  const tiles = { url: ctx.config.mapTileUrl ?? '', attribution: ctx.config.mapTileAttribution };

  const renderList = async (res: Response, actor: Actor, q: string) => {
    const list = await listSites(ctx.db, actor, { q });
    res.renderPage(
      'admin/sites/index',
      { title: msg('Sites'), ...list, canManage: can(actor, 'site.manage'), serviceErrors: {} },
      { fragment: 'admin/sites/_table' },
    );
  };

  const renderSiteForm = async (res: Response, actor: Actor, form: SiteFormState) => {
    const customers = await siteCustomerChoices(ctx.db, actor);
    const title = form.siteId
      ? form.values.name
        ? msg('Edit {name}', { name: form.values.name })
        : msg('Edit site')
      : msg('New site');
    res.renderPage(
      'admin/sites/form',
      { title, customers, ...form, errors: form.errors ?? {} },
      { status: form.status },
    );
  };

  const renderStaffSite = async (res: Response, actor: Actor, siteId: string, visit: VisitState = {}) => {
    const detail = await getStaffSite(ctx.db, actor, siteId);
    res.renderPage(
      'admin/sites/show',
      {
        title: msg('{name}', { name: detail.site.name }),
        ...detail,
        tiles,
        canManage: can(actor, 'site.manage'),
        visitValues: visit.visitValues ?? { completed: true },
        visitErrors: visit.visitErrors ?? {},
        pictureMaxMb: PICTURE_MAX_BYTES / 1024 / 1024,
      },
      { status: visit.status },
    );
  };

  router.get(
    '/admin/sites',
    ...allow('site.staff_view', (req, res, actor) => renderList(res, actor, ListQuery.parse(req.query).q)),
  );

  router.post(
    '/admin/services',
    ...allow('site.manage', async (req, res, actor) => {
      const { service_name: name } = ServiceBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const service = await createService(ctx.db, actor, name);
          res.flash('success', msg('Service {name} added.', { name: service.name }));
          res.redirect(303, '/admin/sites');
        },
        async (errors, status) => {
          const list = await listSites(ctx.db, actor);
          const data = { title: msg('Sites'), ...list, canManage: true, serviceErrors: errors, serviceName: name };
          res.renderPage('admin/sites/index', data, { status });
        },
      );
    }),
  );

  router.get(
    '/admin/sites/new',
    ...allow('site.manage', (req, res, actor) => {
      const { customer } = NewSiteQuery.parse(req.query);
      return renderSiteForm(res, actor, { values: { name: '', address: '', customer_id: customer, geofence: '' } });
    }),
  );

  router.post(
    '/admin/sites',
    ...allow('site.manage', async (req, res, actor) => {
      const form = SiteBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const site = await createSite(ctx.db, actor, form);
          res.flash('success', msg('Site {name} created.', { name: site.name }));
          res.redirect(303, `/admin/sites/${site.id}`);
        },
        (errors, status) => renderSiteForm(res, actor, { values: form, errors, status }),
      );
    }),
  );

  router.get(
    '/admin/sites/:id',
    ...allow('site.staff_view', (req, res, actor) => renderStaffSite(res, actor, Params.parse(req.params).id)),
  );

  router.get(
    '/admin/sites/:id/edit',
    ...allow('site.manage', async (req, res, actor) => {
      const site = await siteForEdit(ctx.db, actor, Params.parse(req.params).id);
      const values = {
        name: site.name,
        address: site.address ?? '',
        customer_id: site.customer_id ?? '',
        geofence: JSON.stringify(site.geofence, null, 1),
      };
      await renderSiteForm(res, actor, { siteId: site.id, values });
    }),
  );

  router.post(
    '/admin/sites/:id',
    ...allow('site.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = SiteBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const site = await updateSite(ctx.db, actor, id, form);
          res.flash('success', msg('Site {name} saved.', { name: site.name }));
          res.redirect(303, `/admin/sites/${site.id}`);
        },
        (errors, status) => renderSiteForm(res, actor, { siteId: id, values: form, errors, status }),
      );
    }),
  );

  router.post(
    '/admin/sites/:id/visits',
    ...allow('site.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form: VisitForm = VisitBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          await recordVisit(ctx.db, actor, id, form);
          res.flash('success', msg('Visit by {vehicle} recorded.', { vehicle: form.vehicle.trim() }));
          res.redirect(303, `/admin/sites/${id}`);
        },
        (errors, status) => renderStaffSite(res, actor, id, { visitValues: form, visitErrors: errors, status }),
      );
    }),
  );

  // the picture arrives as the request body itself (public/picture-upload.js sends the chosen file), so no
  // multipart parser is needed; a refused picture says why on the site's page
  router.post(
    '/admin/sites/:id/pictures',
    ...allow(
      'site.manage',
      express.raw({ type: () => true, limit: PICTURE_MAX_BYTES + 1024 }),
      async (req, res, actor) => {
        const { id } = Params.parse(req.params);
        const { visit, caption } = PictureQuery.parse(req.query);
        const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        await orRerender(
          async () => {
            await addPicture(ctx.db, actor, id, { visitId: visit, caption, bytes });
            res.flash('success', msg('Picture uploaded.'));
          },
          (errors, _status, err) => res.flash('error', errors.picture ?? err.message),
          // a visit that is not the site's is no mistake of the form: the error page says it
          { conflictPage: true },
        );
        res.redirect(303, `/admin/sites/${id}`);
      },
    ),
  );

  router.get(
    '/admin/sites/:id/pictures/:pictureId',
    ...allow('site.staff_view', async (req, res, actor) => {
      const { id, pictureId } = Params.parse(req.params);
      sendPicture(res, await staffPicture(ctx.db, actor, id, pictureId));
    }),
  );

  return router;
}
