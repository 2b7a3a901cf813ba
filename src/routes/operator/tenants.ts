import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { formText, idParam, orRerender } from '../../web/forms.js';
import { noStore, shownActivation } from '../../web/user-screens.js';
import type { OperatorActor } from '../../services/access/index.js';
import { STATUS_LABELS } from '../../services/people/index.js';
import {
  createTenant,
  listTenants,
  reissueTenantAdminActivation,
  setTenantStatus,
} from '../../services/tenants/index.js';
import { msg, type Msg } from '../../services/platform/i18n.js';

/** The deployment operator: every tenant, a new one with its first admin, and disabling or enabling one. */

const Params = z.object({ id: idParam(), userId: idParam() });
const NewTenantBody = z.object({ name: formText(1000), adminEmail: formText(1000), adminName: formText(1000) });
const StatusBody = z.object({ status: formText(20) });

type NewTenantForm = z.infer<typeof NewTenantBody>;
const EMPTY: NewTenantForm = { name: '', adminEmail: '', adminName: '' };

export function operatorTenantRoutes(ctx: AppContext): Router {
  const router = Router();

  const renderList = async (
    res: Response,
    operator: OperatorActor,
    form: { values?: NewTenantForm; errors?: Record<string, Msg> } = {},
    status = 200,
  ) => {
    const tenants = await listTenants(ctx.db, operator);
    res.renderPage(
      'operator/tenants/index',
      {
        title: msg('Tenants'),
        tenants,
        statusLabels: STATUS_LABELS,
        values: form.values ?? EMPTY,
        errors: form.errors ?? {},
        mailConfigured: !!ctx.mail,
      },
      { status },
    );
  };

  router.get('/operator/tenants', ...allow('operator.tenants', (_req, res, operator) => renderList(res, operator)));

  router.post(
    '/operator/tenants',
    ...allow('operator.tenants', async (req, res, operator) => {
      const form = NewTenantBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const created = await createTenant(ctx.db, operator, form, {
            now: ctx.clock.now(),
            baseUrl: ctx.config.baseUrl,
            mail: !!ctx.mail,
          });
          req.log.info(
            { event: 'tenant_created', tenantId: created.tenant.id, userId: operator.userId },
            'tenant created',
          );
          // the link is shown on the answer to this POST only: never in a flash, which is stored
          noStore(res);
          res.renderPage(
            'operator/tenants/created',
            {
              title: msg('{tenant} was created', { tenant: created.tenant.name }),
              created,
              user: created.admin,
              activation: shownActivation(ctx.config.baseUrl, created.token, created.expiresAt, true),
            },
            { status: 201 },
          );
        },
        (errors, status) => renderList(res, operator, { values: form, errors }, status),
      );
    }),
  );

  router.post(
    '/operator/tenants/:id/status',
    ...allow('operator.tenants', async (req, res, operator) => {
      const { id } = Params.parse(req.params);
      const { status } = StatusBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const tenant = await setTenantStatus(ctx.db, operator, id, status, ctx.clock.now());
          const event = { event: `tenant_${tenant.status}`, tenantId: id, userId: operator.userId };
          req.log.info(event, `tenant ${tenant.status}`);
          res.flash(
            'success',
            tenant.status === 'disabled'
              ? msg(
                  '{tenant} is disabled: its people can no longer sign in, and its renewals and reminders wait. Nothing of it was deleted.',

                  { tenant: tenant.name },
                )
              : msg('{tenant} is enabled again: its people can sign in.', { tenant: tenant.name }),
          );
          res.redirect(303, `/operator/tenants#tenant-${id}`);
        },
        (errors, status) => renderList(res, operator, { errors }, status),
      );
    }),
  );

  // a first admin who has not activated yet (the link expired, or never arrived) gets a new one
  router.post(
    '/operator/tenants/:id/admins/:userId/activation-link',
    ...allow('operator.tenants', async (req, res, operator) => {
      const { id, userId } = Params.parse(req.params);
      await orRerender(
        async () => {
          const env = { now: ctx.clock.now(), baseUrl: ctx.config.baseUrl, mail: !!ctx.mail };
          const issued = await reissueTenantAdminActivation(ctx.db, operator, id, userId, env);
          req.log.info({ event: 'activation_link_shown', userId, by: operator.userId }, 'activation link reissued');
          noStore(res);
          res.renderPage('operator/tenants/created', {
            title: msg('A new activation link for {name}', { name: issued.admin.name }),
            created: issued,
            reissued: true,
            user: issued.admin,
            activation: shownActivation(ctx.config.baseUrl, issued.token, issued.expiresAt, false),
          });
        },
        (errors, status) => renderList(res, operator, { errors }, status),
      );
    }),
  );

  return router;
}
