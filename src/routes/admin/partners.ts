import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { formText, idParam, orRerender } from '../../web/forms.js';
import { activationOptions, noStore, shownActivation } from '../../web/user-screens.js';
import type { Actor } from '../../services/access/index.js';
import {
  assignCustomer,
  createPartner,
  getPartner,
  listPartners,
  unassignCustomer,
} from '../../services/partners/index.js';
import {
  ACTIVATION_DAYS,
  createPartnerUser,
  reissuePartnerActivation,
  STATUS_LABELS,
} from '../../services/people/index.js';
import { formatDateTime, msg, type Msg } from '../../services/platform/index.js';

/** Provider staff: partners (resellers), their partner viewers and their customers. */

const Params = z.object({ id: idParam(), userId: idParam(), customerId: idParam() });
const NameBody = z.object({ name: formText(1000) });
const AssignBody = z.object({ customerId: formText(100) });
const PartnerUserBody = z.object({ name: formText(1000), email: formText(1000), activation: formText(20) });

type ListState = { values?: { name: string }; errors?: Record<string, Msg> };

export function adminPartnerRoutes(ctx: AppContext): Router {
  const router = Router();
  const mailEnv = () => ({ now: ctx.clock.now(), baseUrl: ctx.config.baseUrl });

  const renderList = async (res: Response, actor: Actor, form: ListState = {}, status = 200) => {
    const partners = await listPartners(ctx.db, actor);
    res.renderPage(
      'admin/partners/index',
      { title: msg('Partners'), partners, values: form.values ?? { name: '' }, errors: form.errors ?? {} },
      { status },
    );
  };

  const renderPartner = async (
    res: Response,
    actor: Actor,
    partnerId: string,
    extra: Record<string, unknown> = {},
    status = 200,
  ) => {
    const detail = await getPartner(ctx.db, actor, partnerId);
    res.renderPage(
      'admin/partners/show',
      {
        title: msg('{name}', { name: detail.partner.name }),
        ...detail,
        statusLabels: STATUS_LABELS,
        errors: {},
        formatTime: (d: Date) => formatDateTime(d, actor.timeZone),
        ...extra,
      },
      { status },
    );
  };

  const renderNewUser = async (
    res: Response,
    actor: Actor,
    partnerId: string,
    values: Record<string, string>,
    errors: Record<string, Msg> = {},
    status = 200,
  ) => {
    const { partner } = await getPartner(ctx.db, actor, partnerId);
    res.renderPage(
      'admin/partners/new-user',
      {
        title: msg('Add a user to {name}', { name: partner.name }),
        partner,
        values,
        errors,
        activationOptions,
        activationDays: ACTIVATION_DAYS,
      },
      { status },
    );
  };

  router.get('/admin/partners', ...allow('partner.manage', (_req, res, actor) => renderList(res, actor)));

  router.post(
    '/admin/partners',
    ...allow('partner.manage', async (req, res, actor) => {
      const form = NameBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const partner = await createPartner(ctx.db, actor, form);
          res.flash(
            'success',
            msg('Partner {name} created. Assign its customers and add its users here.', { name: partner.name }),
          );
          res.redirect(303, `/admin/partners/${partner.id}`);
        },
        (errors, status) => renderList(res, actor, { values: form, errors }, status),
      );
    }),
  );

  router.get(
    '/admin/partners/:id',
    ...allow('partner.manage', (req, res, actor) => renderPartner(res, actor, Params.parse(req.params).id)),
  );

  router.post(
    '/admin/partners/:id/customers',
    ...allow('partner.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = AssignBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const customer = await assignCustomer(ctx.db, actor, id, form.customerId);
          res.flash(
            'success',
            msg('{customer} is now assigned to this partner. Its users see it, read only.', {
              customer: customer.title,
            }),
          );
          res.redirect(303, `/admin/partners/${id}`);
        },
        (errors, status) => renderPartner(res, actor, id, { errors, formError: errors.form }, status),
      );
    }),
  );

  router.post(
    '/admin/partners/:id/customers/:customerId/delete',
    ...allow('partner.manage', async (req, res, actor) => {
      const { id, customerId } = Params.parse(req.params);
      const customer = await unassignCustomer(ctx.db, actor, id, customerId);
      res.flash('success', msg('{customer} is no longer assigned to this partner.', { customer: customer.title }));
      res.redirect(303, `/admin/partners/${id}`);
    }),
  );

  router.get(
    '/admin/partners/:id/users/new',
    ...allow('partner.manage', (req, res, actor) =>
      renderNewUser(res, actor, Params.parse(req.params).id, { activation: 'email' }),
    ),
  );

  router.post(
    '/admin/partners/:id/users',
    ...allow('partner.manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const form = PartnerUserBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { user, token, expiresAt } = await createPartnerUser(ctx.db, actor, id, form, mailEnv());
          if (!token) {
            res.flash(
              'success',
              msg('Added {name}. An activation email is on its way to {email}.', {
                name: user.name,
                email: user.email,
              }),
            );
            return res.redirect(303, `/admin/partners/${id}`);
          }
          noStore(res);
          const activation = shownActivation(ctx.config.baseUrl, token, expiresAt, true);
          await renderPartner(res, actor, id, { user, activation }, 201);
        },
        (errors, status) => renderNewUser(res, actor, id, form, errors, status),
      );
    }),
  );

  // a pending partner viewer: a new link by mail, or shown to hand over (earlier links stop working)
  router.post(
    '/admin/partners/:id/users/:userId/activation-email',
    ...allow('partner.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      await orRerender(
        async () => {
          const { user } = await reissuePartnerActivation(ctx.db, actor, id, userId, 'email', mailEnv());
          res.flash(
            'success',
            msg('A new activation email is on its way to {email}. Earlier links no longer work.', {
              email: user.email,
            }),
          );
          res.redirect(303, `/admin/partners/${id}`);
        },
        (errors, status) => renderPartner(res, actor, id, { formError: errors.form }, status),
      );
    }),
  );

  router.post(
    '/admin/partners/:id/users/:userId/activation-link',
    ...allow('partner.manage', async (req, res, actor) => {
      const { id, userId } = Params.parse(req.params);
      await orRerender(
        async () => {
          const reissued = await reissuePartnerActivation(ctx.db, actor, id, userId, 'link', mailEnv());
          noStore(res);
          // asked for as a link, the token is always there
          const activation = shownActivation(ctx.config.baseUrl, String(reissued.token), reissued.expiresAt, false);
          await renderPartner(res, actor, id, { user: reissued.user, activation });
        },
        (errors, status) => renderPartner(res, actor, id, { formError: errors.form }, status),
      );
    }),
  );

  return router;
}
