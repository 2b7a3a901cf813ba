import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { formList, formText, orRerender } from '../../web/forms.js';
import type { Actor } from '../../services/access/index.js';
import {
  API_SCOPE_LABELS,
  API_SCOPES,
  createApiKey,
  findApiKey,
  listApiKeys,
  revokeApiKey,
} from '../../services/integration/index.js';
import { msg, type Msg } from '../../services/platform/index.js';

/** /admin/api-keys: the tenant admin's keys for the integration API. */

const KeyBody = z.object({ name: formText(), scopes: formList(API_SCOPES.length) });
const KeyParams = z.object({ id: z.uuid() });

type IndexState = {
  values?: z.infer<typeof KeyBody>;
  errors?: Record<string, Msg>;
  created?: { name: string; secret: string };
  status?: number;
};

export function adminApiKeyRoutes(ctx: AppContext): Router {
  const router = Router();

  const renderIndex = async (res: Response, actor: Actor, state: IndexState = {}) => {
    const keys = await listApiKeys(ctx.db, actor);
    // a page showing a new key's secret must never be cached or kept
    if (state.created) res.set('Cache-Control', 'no-store');
    res.renderPage(
      'admin/api-keys/index',
      {
        title: msg('API keys'),
        keys,
        // a new key may do everything unless the admin unticks some of it
        values: state.values ?? { name: '', scopes: [...API_SCOPES] },
        scopeOptions: API_SCOPES.map((s) => ({ value: s, ...API_SCOPE_LABELS[s] })),
        errors: state.errors ?? {},
        created: state.created ?? null,
        docsUrl: `${ctx.config.baseUrl}/api/v1/openapi.json`,
      },
      { status: state.status },
    );
  };

  router.get('/admin/api-keys', ...allow('api_key.manage', (_req, res, actor) => renderIndex(res, actor)));

  // the secret is shown in the answer to this POST and nowhere else (not in a redirect's flash, which would store it)
  router.post(
    '/admin/api-keys',
    ...allow('api_key.manage', async (req, res, actor) => {
      const values = KeyBody.parse(req.body ?? {});
      await orRerender(
        async () => {
          const { key, secret } = await createApiKey(ctx.db, actor, values, ctx.clock.now());
          await renderIndex(res, actor, { created: { name: key.name, secret }, status: 201 });
        },
        (errors, status) => renderIndex(res, actor, { values, errors, status }),
      );
    }),
  );

  router.get(
    '/admin/api-keys/:id/revoke',
    ...allow('api_key.manage', async (req, res, actor) => {
      const key = await findApiKey(ctx.db, actor, KeyParams.parse(req.params).id);
      res.renderPage('admin/api-keys/revoke', { title: msg('Revoke {name}', { name: key.name }), key });
    }),
  );

  router.post(
    '/admin/api-keys/:id/revoke',
    ...allow('api_key.manage', async (req, res, actor) => {
      const key = await revokeApiKey(ctx.db, actor, KeyParams.parse(req.params).id, ctx.clock.now());
      res.flash(
        'success',
        msg('The key "{name}" is revoked: requests made with it are refused from now on.', { name: key.name }),
      );
      res.redirect(303, '/admin/api-keys');
    }),
  );

  return router;
}
