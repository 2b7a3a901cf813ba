import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.js';
import { allow } from '../../../web/auth.js';
import { formText, idParam, orRerender } from '../../../web/forms.js';
import { readDb } from '../../../web/replica.js';
import {
  activateDevice,
  deactivateDevice,
  deviceRegistrationChoices,
  editDevice,
  getAsset,
  listAssets,
  moveDevice,
  NAME_MAX,
  PLAN_LABELS,
  PLANS,
  registerDevice,
} from '../../../services/assets/index.js';
import { type Actor, can, customerTabsFor } from '../../../services/access/index.js';
import { assetFilter, renderAssetList, sendAssetsCsv } from '../../assets/index.js';
import { msg, type Msg } from '../../../services/platform/i18n.js';
import { requestTranslator } from '../../../web/locale.js';

/**
 * Staff: a customer's Assets tab, the customer's asset list seen from the provider's side, and the
 * devices managed directly from there (tenant admins, 'asset.staff_manage'): register one, edit,
 * move, activate, deactivate (after a confirmation page). Many devices at once go through the CSV
 * import (/admin/imports, "Devices").
 */

const Params = z.object({ id: idParam() });
const AssetParams = z.object({ id: idParam(), assetId: idParam() });
// one character over each limit, so that too long is said next to the field rather than cut silently
const DeviceBody = z.object({
  identifier: formText(65),
  name: formText(NAME_MAX + 1),
  group_id: formText(100),
  plan: formText(20),
});
const EditBody = z.object({ identifier: formText(65), name: formText(NAME_MAX + 1) });
const MoveBody = z.object({ group_id: formText(100) });
const ConfirmBody = z.object({ confirm: formText(10) });

const planOptions = PLANS.map((p) => ({ value: p, label: PLAN_LABELS[p] }));

type Problems = { errors?: Record<string, Msg>; values?: Record<string, Msg>; status?: number };

export function adminCustomerAssetRoutes(ctx: AppContext): Router {
  const router = Router();
  const now = () => ctx.clock.now();
  const base = (customerId: string) => `/admin/customers/${customerId}/assets`;

  router.get(
    '/admin/customers/:id/assets',
    ...allow('asset.staff_view', async (req, res, actor) => {
      const filter = assetFilter(ctx, req, actor, Params.parse(req.params).id);
      const list = await listAssets(readDb(ctx, req), actor, filter);
      const customer = list.customer!;
      renderAssetList(res, list, {
        // renderAssetList takes a finished title: translated here (the layout leaves a translated text as it is)
        title: requestTranslator(req, res).t('Assets · {customer}', { customer: customer.title }),
        base: base(customer.id),
        linkAssets: true,
        assetBase: `${base(customer.id)}/`,
        canRequest: false,
        canManage: can(actor, 'asset.staff_manage'),
        customerTabs: customerTabsFor(actor, customer.id),
      });
    }),
  );

  router.get(
    '/admin/customers/:id/assets.csv',
    ...allow('asset.staff_view', (req, res, actor) =>
      sendAssetsCsv(ctx, req, res, actor, assetFilter(ctx, req, actor, Params.parse(req.params).id)),
    ),
  );

  const renderNew = async (res: Response, actor: Actor, customerId: string, form: Problems = {}) => {
    const { customer, groups } = await deviceRegistrationChoices(ctx.db, actor, customerId);
    res.renderPage(
      'admin/customers/assets/new',
      {
        title: msg('Register a device · {customer}', { customer: customer.title }),
        customer,
        groups,
        planOptions,
        customerTabs: customerTabsFor(actor, customer.id),
        errors: form.errors ?? {},
        values: form.values ?? {},
      },
      { status: form.status },
    );
  };

  router.get(
    '/admin/customers/:id/assets/new',
    ...allow('asset.staff_manage', (req, res, actor) => renderNew(res, actor, Params.parse(req.params).id)),
  );

  router.post(
    '/admin/customers/:id/assets',
    ...allow('asset.staff_manage', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const body = DeviceBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { assetId } = await registerDevice(ctx.db, actor, id, {
            identifier: body.identifier,
            name: body.name,
            groupId: body.group_id,
            plan: body.plan,
          });
          res.flash(
            'success',
            msg('{identifier} is registered, inactive until you activate it.', { identifier: body.identifier.trim() }),
          );
          res.redirect(303, `${base(id)}/${assetId}`);
        },
        (errors, status) => renderNew(res, actor, id, { errors, values: body, status }),
      );
    }),
  );

  const renderAsset = async (res: Response, actor: Actor, customerId: string, assetId: string, form: Problems = {}) => {
    const page = await getAsset(ctx.db, actor, assetId, now(), { customerId });
    res.renderPage(
      'admin/customers/assets/show',
      {
        title: msg('{asset} · {customer}', {
          asset: page.asset.name || page.asset.identifier,
          customer: page.customer.title,
        }),
        ...page,
        base: base(customerId),
        customerTabs: customerTabsFor(actor, customerId),
        errors: form.errors ?? {},
        values: form.values ?? {},
      },
      { status: form.status },
    );
  };

  /** A change made from the staff asset page: done, its note and back to the page; refused, the page and why. */
  const fromAssetPage =
    <B extends Record<string, string>>(
      schema: z.ZodType<B>,
      change: (actor: Actor, customerId: string, assetId: string, body: B) => Promise<Msg>,
    ) =>
    async (req: Request, res: Response, actor: Actor) => {
      const { id, assetId } = AssetParams.parse(req.params);
      const body = schema.parse(req.body ?? {});
      await orRerender(
        async () => {
          res.flash('success', await change(actor, id, assetId, body));
          res.redirect(303, `${base(id)}/${assetId}`);
        },
        (errors, status) => renderAsset(res, actor, id, assetId, { errors, values: body, status }),
      );
    };

  router.get(
    '/admin/customers/:id/assets/:assetId',
    ...allow('asset.staff_view', (req, res, actor) => {
      const { id, assetId } = AssetParams.parse(req.params);
      return renderAsset(res, actor, id, assetId);
    }),
  );

  router.post(
    '/admin/customers/:id/assets/:assetId',
    ...allow(
      'asset.staff_manage',
      fromAssetPage(EditBody, async (actor, id, assetId, body) => {
        await editDevice(ctx.db, actor, id, assetId, body);
        return msg('Details saved.');
      }),
    ),
  );

  router.post(
    '/admin/customers/:id/assets/:assetId/group',
    ...allow(
      'asset.staff_manage',
      fromAssetPage(MoveBody, async (actor, id, assetId, body) => {
        const { path } = await moveDevice(ctx.db, actor, id, assetId, body.group_id);
        return msg('Moved to {group}.', { group: path });
      }),
    ),
  );

  router.post(
    '/admin/customers/:id/assets/:assetId/activation',
    ...allow(
      'asset.staff_manage',
      fromAssetPage(z.object({}), async (actor, id, assetId) => {
        const { identifier } = await activateDevice(ctx.db, actor, id, assetId, now());
        return msg('{identifier} is active; its term starts today.', { identifier });
      }),
    ),
  );

  const renderDeactivation = async (
    res: Response,
    actor: Actor,
    customerId: string,
    assetId: string,
    form: Problems = {},
  ) => {
    const page = await getAsset(ctx.db, actor, assetId, now(), { customerId });
    res.renderPage(
      'admin/customers/assets/deactivation',
      {
        title: msg('Deactivate {asset}', { asset: page.asset.name || page.asset.identifier }),
        ...page,
        base: base(customerId),
        errors: form.errors ?? {},
      },
      { status: form.status },
    );
  };

  router.get(
    '/admin/customers/:id/assets/:assetId/deactivation',
    ...allow('asset.staff_manage', (req, res, actor) => {
      const { id, assetId } = AssetParams.parse(req.params);
      return renderDeactivation(res, actor, id, assetId);
    }),
  );

  router.post(
    '/admin/customers/:id/assets/:assetId/deactivation',
    ...allow('asset.staff_manage', async (req, res, actor) => {
      const { id, assetId } = AssetParams.parse(req.params);
      // only the confirmation page's form deactivates: a bare POST shows that page
      if (ConfirmBody.parse(req.body ?? {}).confirm !== 'yes')
        return renderDeactivation(res, actor, id, assetId, {
          errors: { form: msg('Confirm the deactivation with the button below.') },
          status: 422,
        });
      await orRerender(
        async () => {
          const { identifier } = await deactivateDevice(ctx.db, actor, id, assetId, now());
          res.flash('success', msg('{identifier} is deactivated: its subscription has ended.', { identifier }));
          res.redirect(303, `${base(id)}/${assetId}`);
        },
        (errors, status) => renderDeactivation(res, actor, id, assetId, { errors, status }),
      );
    }),
  );

  return router;
}
