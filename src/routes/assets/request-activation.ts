import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { formText, orRerender } from '../../web/forms.js';
import {
  findByIdentifier,
  type IdentifierLookup,
  identifierProblem,
  PLAN_LABELS,
  PLANS,
  registeredElsewhereMessage,
  registrationChoices,
  requestActivationOfNewDevice,
} from '../../services/assets/index.js';
import type { Actor } from '../../services/access/index.js';
import { msg, type Msg } from '../../services/platform/i18n.js';
import { withDayLabels } from './day-labels.js';

/** "Request activation" of a device: search it by identifier, then register a new one or go to the one found. */

const Query = z.object({ identifier: formText().transform((v) => v.trim().slice(0, 100)) });
const Body = z.object({ identifier: formText(100), name: formText(1000), group_id: formText(100), plan: formText(20) });

const planOptions = PLANS.map((p) => ({ value: p, label: PLAN_LABELS[p] }));

type Page = {
  identifier: string;
  lookup: IdentifierLookup | null;
  errors?: Record<string, Msg>;
  values?: Record<string, string>;
  status?: number;
};

export function requestActivationRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use('/assets/request-activation', withDayLabels);

  const render = async (res: Response, actor: Actor, page: Page) => {
    const choices = page.lookup?.found === 'none' ? await registrationChoices(ctx.db, actor) : null;
    res.renderPage(
      'assets/request-activation/index',
      {
        title: msg('Request activation'),
        ...page,
        errors: page.errors ?? {},
        values: page.values ?? {},
        choices,
        planOptions,
        elsewhereMessage: registeredElsewhereMessage(actor),
      },
      { fragment: 'assets/request-activation/_form', status: page.status },
    );
  };

  /** The search: nothing asked yet, an identifier that cannot be one (422), or what it found. */
  const search = async (actor: Actor, identifier: string): Promise<Page> => {
    if (!identifier) return { identifier, lookup: null };
    const problem = identifierProblem(identifier);
    if (problem) return { identifier, lookup: null, errors: { identifier: problem }, status: 422 };
    return { identifier, lookup: await findByIdentifier(ctx.db, actor, identifier) };
  };

  router.get(
    '/assets/request-activation',
    ...allow('asset.request', async (req, res, actor) => {
      await render(res, actor, await search(actor, Query.parse(req.query).identifier));
    }),
  );

  router.post(
    '/assets/request-activation',
    ...allow('asset.request', async (req, res, actor) => {
      const form = Body.parse(req.body ?? {});
      await orRerender(
        async () => {
          const device = { identifier: form.identifier, name: form.name, groupId: form.group_id, plan: form.plan };
          const { assetId, created } = await requestActivationOfNewDevice(ctx.db, actor, device);
          res.flash(...requestedNote(form.identifier.trim(), created, actor));
          res.redirect(303, `/assets/${assetId}`);
        },
        (errors, status) => {
          const lookup: IdentifierLookup | null = errors.identifier ? null : { found: 'none' };
          return render(res, actor, { identifier: form.identifier.trim(), lookup, values: form, errors, status });
        },
      );
    }),
  );

  return router;
}

/** What the person reads on the asset's page after asking: a new device waits for approval, a known one is there. */
function requestedNote(identifier: string, created: boolean, actor: Actor): ['success' | 'info', Msg] {
  if (created)
    return [
      'success',
      msg('Activation requested for {identifier}: it shows as Activation pending until {provider} approves it.', {
        identifier,
        provider: actor.tenantName,
      }),
    ];
  return [
    'info',
    msg('{identifier} is already registered: this is its page. To activate it again, use Reactivate here.', {
      identifier,
    }),
  ];
}
