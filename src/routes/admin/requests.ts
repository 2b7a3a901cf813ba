import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow, type ActorHandler } from '../../web/auth.js';
import { formText, idParam, orRerender } from '../../web/forms.js';
import {
  applyDeactivation,
  approveRequest,
  formatDay,
  listPendingRequests,
  QUEUED_KINDS,
  type QueueFilter,
  queueFilterFrom,
  rejectRequest,
  REQUEST_KIND_LABELS,
} from '../../services/assets/index.js';
import type { Actor } from '../../services/access/index.js';
import { msg, type Msg, type Translator } from '../../services/platform/index.js';
import { requestTranslator } from '../../web/locale.js';

/** The provider's queue of asset requests: approve an activation, reject with a reason, apply a deactivation. */

const Params = z.object({ id: idParam() });
const DecisionBody = z.object({ reason: formText(5000) });

const kindOptions = [
  { value: '', label: msg('All kinds') },
  ...QUEUED_KINDS.map((k) => ({ value: k, label: REQUEST_KIND_LABELS[k] })),
];

type Problems = { errors?: Record<string, Msg>; values?: Record<string, Msg>; status?: number; rowId?: string };

/** The queue's address with its filters, as the filter form and the row forms send them back. */
function queueUrl(filter: Pick<QueueFilter, 'kind' | 'customerId'> & { after?: string }): string {
  const params = new URLSearchParams();
  if (filter.kind) params.set('kind', filter.kind);
  if (filter.customerId) params.set('customer', filter.customerId);
  if (filter.after) params.set('after', filter.after);
  return params.size ? `/admin/requests?${params.toString()}` : '/admin/requests';
}

export function adminRequestRoutes(ctx: AppContext): Router {
  const router = Router();
  const now = () => ctx.clock.now();

  const renderQueue = async (res: Response, actor: Actor, filter: QueueFilter, opts: Problems = {}) => {
    const queue = await listPendingRequests(ctx.db, actor, filter);
    const data = {
      title: msg('Requests'),
      queue,
      kindOptions,
      errors: opts.errors ?? {},
      values: opts.values ?? {},
      rowId: opts.rowId ?? '',
      queueUrl,
    };
    res.renderPage('admin/requests/index', data, { fragment: 'admin/requests/_table', status: opts.status });
  };

  /** A decision on one row, then back to the queue with the same filters (or the queue again with the reason). */
  const decision =
    (decide: (actor: Actor, id: string, reason: string, tr: Translator) => Promise<Msg>): ActorHandler =>
    async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      const { reason } = DecisionBody.parse(req.body ?? {});
      const filter = { ...queueFilterFrom(req.body ?? {}), after: '' };
      await orRerender(
        async () => {
          res.flash('success', await decide(actor, id, reason, requestTranslator(req, res)));
          res.redirect(303, queueUrl(filter));
        },
        (errors, status) => renderQueue(res, actor, filter, { errors, status, rowId: id, values: { reason } }),
      );
    };

  router.get(
    '/admin/requests',
    ...allow('request.review', (req, res, actor) => renderQueue(res, actor, queueFilterFrom(req.query))),
  );

  router.post(
    '/admin/requests/:id/approval',
    ...allow(
      'request.review',
      decision(async (actor, id, _reason, tr) => {
        const { identifier, termEnd } = await approveRequest(ctx.db, actor, id, now());
        // the day in the reader's language, as the flash shows it to them next
        const day = tr.locale === 'en' ? formatDay(termEnd) : tr.date(termEnd);
        return msg('{identifier} is active: its first term runs until {day}.', { identifier, day });
      }),
    ),
  );

  router.post(
    '/admin/requests/:id/rejection',
    ...allow(
      'request.review',
      decision(async (actor, id, reason) => {
        const { identifier, kindLabel } = await rejectRequest(ctx.db, actor, id, reason);
        // one message, so translators see the whole sentence
        return msg(
          '{kind, select, Activation {Activation} Reactivation {Reactivation} Deactivation {Deactivation} other {{kind}}} of {identifier} rejected: the customer sees your reason in the asset’s history.',
          { kind: kindLabel, identifier },
        );
      }),
    ),
  );

  router.post(
    '/admin/requests/:id/application',
    ...allow(
      'request.review',
      decision(async (actor, id) => {
        const { identifier } = await applyDeactivation(ctx.db, actor, id);
        return msg('{identifier} is deactivated.', { identifier });
      }),
    ),
  );

  return router;
}
