import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { NotFoundError } from '../../errors.js';
import { allow } from '../../web/auth.js';
import {
  applyDeactivation,
  approveRequest,
  cancelDeactivation,
  confirmRenewal,
  deactivationPreview,
  findByIdentifier,
  formatDay,
  getAsset,
  type IdentifierLookup,
  identifierProblem,
  listPendingRequests,
  moveAsset,
  PLAN_LABELS,
  PLANS,
  QUEUED_KINDS,
  type QueueFilter,
  queueFilterFrom,
  registeredElsewhereMessage,
  registrationChoices,
  rejectRequest,
  REQUEST_KIND_LABELS,
  requestActivation,
  requestActivationOfNewDevice,
  requestDeactivation,
} from '../../services/assets/index.js';
import { can } from '../../services/access/index.js';
import { ticketsOfAsset } from '../../services/tickets/index.js';
import { formText, orRerender } from '../../web/forms.js';

/** One asset's page and the requests made from it; "Request activation"; the deep link; the provider's queue. */

const text = (max: number) => formText().transform((v) => v.slice(0, max));
const MoveForm = z.object({ group_id: text(100) });
const NewDeviceBody = z.object({ identifier: text(100), name: text(1000), group_id: text(100), plan: text(20) });
const RejectBody = z.object({ reason: text(5000) });

const idOf = (req: Request) => String(req.params.id ?? '');
const assetUrl = (req: Request) => `/assets/${idOf(req)}`;
const planOptions = PLANS.map((p) => ({ value: p, label: PLAN_LABELS[p] }));
const kindOptions = [
  { value: '', label: 'All kinds' },
  ...QUEUED_KINDS.map((k) => ({ value: k, label: REQUEST_KIND_LABELS[k] })),
];

export const CANNOT_SEE_DEVICE =
  'You cannot see this device with your account. If you should, ask your company admin for access.';

/** The queue's address with its filters, as the filter form and the row forms send them back. */
function queueUrl(filter: Pick<QueueFilter, 'kind' | 'customerId'> & { after?: string }): string {
  const params = new URLSearchParams();
  if (filter.kind) params.set('kind', filter.kind);
  if (filter.customerId) params.set('customer', filter.customerId);
  if (filter.after) params.set('after', filter.after);
  return params.size ? `/admin/requests?${params.toString()}` : '/admin/requests';
}

export function assetActionRoutes(ctx: AppContext): Router {
  const router = Router();
  const now = () => ctx.clock.now();

  type Problems = { errors?: Record<string, string>; values?: Record<string, string>; status?: number };

  const renderAsset = async (req: Request, res: Response, opts: Problems = {}) => {
    const page = await getAsset(ctx.db, req.actor!, idOf(req), now());
    const title = page.asset.name || page.asset.identifier;
    const tickets = await ticketsOfAsset(ctx.db, req.actor!, page.asset.id);
    res.renderPage(
      'assets/show',
      {
        title,
        ...page,
        tickets,
        canOpenTicket: can(req.actor, 'ticket.open'),
        canViewCdrs: can(req.actor, 'cdr.view'),
        errors: opts.errors ?? {},
        values: opts.values ?? {},
      },
      { status: opts.status },
    );
  };

  const renderRequestActivation = async (
    req: Request,
    res: Response,
    data: { identifier: string; lookup: IdentifierLookup | null } & Problems,
  ) => {
    const choices = data.lookup?.found === 'none' ? await registrationChoices(ctx.db, req.actor!) : null;
    res.renderPage(
      'assets/request-activation/index',
      {
        title: 'Request activation',
        ...data,
        errors: data.errors ?? {},
        values: data.values ?? {},
        choices,
        planOptions,
        elsewhereMessage: registeredElsewhereMessage(req.actor!),
      },
      { fragment: 'assets/request-activation/_form', status: data.status },
    );
  };

  const renderQueue = async (
    req: Request,
    res: Response,
    filter: QueueFilter,
    opts: Problems & { rowId?: string } = {},
  ) => {
    const queue = await listPendingRequests(ctx.db, req.actor!, filter);
    const data = {
      title: 'Requests',
      queue,
      kindOptions,
      errors: opts.errors ?? {},
      values: opts.values ?? {},
      rowId: opts.rowId ?? '',
      queueUrl,
    };
    res.renderPage('admin/requests/index', data, { fragment: 'admin/requests/_table', status: opts.status });
  };

  // ---- "Request activation" of a device, after a search ----

  router.get('/assets/request-activation', ...allow('asset.request'), async (req, res) => {
    const identifier = typeof req.query.identifier === 'string' ? req.query.identifier.trim().slice(0, 100) : '';
    if (!identifier) return renderRequestActivation(req, res, { identifier, lookup: null });
    const problem = identifierProblem(identifier);
    if (problem)
      return renderRequestActivation(req, res, {
        identifier,
        lookup: null,
        errors: { identifier: problem },
        status: 422,
      });
    await renderRequestActivation(req, res, {
      identifier,
      lookup: await findByIdentifier(ctx.db, req.actor!, identifier),
    });
  });

  router.post('/assets/request-activation', ...allow('asset.request'), async (req, res) => {
    const form = NewDeviceBody.parse(req.body ?? {});
    await orRerender(
      async () => {
        const { assetId, created } = await requestActivationOfNewDevice(ctx.db, req.actor!, {
          identifier: form.identifier,
          name: form.name,
          groupId: form.group_id,
          plan: form.plan,
        });
        if (created)
          res.flash(
            'success',
            `Activation requested for ${form.identifier.trim()}: it shows as Activation pending until ${req.actor!.tenantName} approves it.`,
          );
        else
          res.flash(
            'info',
            `${form.identifier.trim()} is already registered: this is its page. To activate it again, use Reactivate here.`,
          );
        res.redirect(303, `/assets/${assetId}`);
      },
      (errors, status) =>
        renderRequestActivation(req, res, {
          identifier: form.identifier.trim(),
          lookup: errors.identifier ? null : { found: 'none' },
          values: form,
          errors,
          status,
        }),
    );
  });

  // ---- the deep link other platforms use ----

  router.get('/assets/by-identifier/:identifier', ...allow('asset.view'), async (req, res) => {
    const found = await findByIdentifier(ctx.db, req.actor!, String(req.params.identifier ?? ''));
    // the same answer whether the device is someone else's or unknown: existence is not revealed
    if (found.found !== 'in_reach') throw new NotFoundError(CANNOT_SEE_DEVICE);
    res.redirect(303, `/assets/${found.asset.id}`);
  });

  // ---- one asset and what its people may ask ----

  router.get('/assets/:id', ...allow('asset.view'), (req, res) => renderAsset(req, res));

  router.post('/assets/:id/activation-request', ...allow('asset.request'), async (req, res) => {
    await orRerender(
      async () => {
        const { kind } = await requestActivation(ctx.db, req.actor!, idOf(req));
        const what = kind === 'activation' ? 'Activation' : 'Reactivation';
        res.flash(
          'success',
          `${what} requested: the asset shows as Activation pending until ${req.actor!.tenantName} approves it.`,
        );
        res.redirect(303, assetUrl(req));
      },
      (errors, status) => renderAsset(req, res, { errors, status }),
    );
  });

  router.post('/assets/:id/renewal-confirmation', ...allow('asset.request'), async (req, res) => {
    await orRerender(
      async () => {
        const { termEnd } = await confirmRenewal(ctx.db, req.actor!, idOf(req));
        res.flash(
          'success',
          `Renewal confirmed${termEnd ? `: the current term runs until ${formatDay(termEnd)}` : ''}.`,
        );
        res.redirect(303, assetUrl(req));
      },
      (errors, status) => renderAsset(req, res, { errors, status }),
    );
  });

  router.get('/assets/:id/deactivation-request', ...allow('asset.request'), async (req, res) => {
    const preview = await deactivationPreview(ctx.db, req.actor!, idOf(req), now());
    res.renderPage('assets/deactivation', {
      title: `Request deactivation of ${preview.asset.name || preview.asset.identifier}`,
      ...preview,
    });
  });

  router.post('/assets/:id/deactivation-request', ...allow('asset.request'), async (req, res) => {
    await orRerender(
      async () => {
        const { effectiveOn } = await requestDeactivation(ctx.db, req.actor!, idOf(req), now());
        res.flash('success', `Deactivation requested: it takes effect on ${formatDay(effectiveOn)}.`);
        res.redirect(303, assetUrl(req));
      },
      (errors, status) => renderAsset(req, res, { errors, status }),
    );
  });

  router.post('/assets/:id/deactivation-request/cancel', ...allow('asset.request'), async (req, res) => {
    await orRerender(
      async () => {
        await cancelDeactivation(ctx.db, req.actor!, idOf(req));
        res.flash('success', 'Deactivation cancelled: the asset stays active.');
        res.redirect(303, assetUrl(req));
      },
      (errors, status) => renderAsset(req, res, { errors, status }),
    );
  });

  router.post('/assets/:id/group', ...allow('asset.request'), async (req, res) => {
    const form = MoveForm.parse(req.body ?? {});
    await orRerender(
      async () => {
        const { path } = await moveAsset(ctx.db, req.actor!, idOf(req), form.group_id);
        res.flash('success', `Moved to ${path}.`);
        res.redirect(303, assetUrl(req));
      },
      (errors, status) => renderAsset(req, res, { errors, values: form, status }),
    );
  });

  // ---- the provider's queue ----

  router.get('/admin/requests', ...allow('request.review'), (req, res) =>
    renderQueue(req, res, queueFilterFrom(req.query)),
  );

  /** A decision on one row, then back to the queue with the same filters (or the queue again with the reason). */
  const decision = (decide: (req: Request) => Promise<string>) => async (req: Request, res: Response) => {
    const filter = { ...queueFilterFrom(req.body ?? {}), after: '' };
    const reason = RejectBody.parse(req.body ?? {}).reason;
    await orRerender(
      async () => {
        res.flash('success', await decide(req));
        res.redirect(303, queueUrl(filter));
      },
      (errors, status) => renderQueue(req, res, filter, { errors, status, rowId: idOf(req), values: { reason } }),
    );
  };

  router.post(
    '/admin/requests/:id/approval',
    ...allow('request.review'),
    decision(async (req) => {
      const { identifier, termEnd } = await approveRequest(ctx.db, req.actor!, idOf(req), now());
      return `${identifier} is active: its first term runs until ${formatDay(termEnd)}.`;
    }),
  );

  router.post(
    '/admin/requests/:id/rejection',
    ...allow('request.review'),
    decision(async (req) => {
      const { identifier, kindLabel } = await rejectRequest(
        ctx.db,
        req.actor!,
        idOf(req),
        RejectBody.parse(req.body ?? {}).reason,
      );
      return `${kindLabel} of ${identifier} rejected: the customer sees your reason in the asset’s history.`;
    }),
  );

  router.post(
    '/admin/requests/:id/application',
    ...allow('request.review'),
    decision(async (req) => {
      const { identifier } = await applyDeactivation(ctx.db, req.actor!, idOf(req));
      return `${identifier} is deactivated.`;
    }),
  );

  return router;
}
