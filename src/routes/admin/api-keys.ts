import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { createApiKey, findApiKey, listApiKeys, revokeApiKey } from '../../services/integration/index.js';
import { formatDateTime } from '../../services/platform/index.js';
import { formText, orRerender } from '../../web/forms.js';

const KeyBody = z.object({ name: formText() });
const KeyParams = z.object({ id: z.uuid() });

/** /admin/api-keys: the tenant admin's keys for the integration API. */
export function adminApiKeyRoutes(ctx: AppContext): Router {
  const router = Router();
  const guard = allow('api_key.manage');
  const formatTime = (req: Request) => (d: Date | null) => (d ? formatDateTime(d, req.actor!.timeZone) : 'Never');

  const renderIndex = async (
    req: Request,
    res: Response,
    extra: {
      values?: { name: string };
      errors?: Record<string, string>;
      created?: { name: string; secret: string };
      status?: number;
    } = {},
  ) => {
    const keys = await listApiKeys(ctx.db, req.actor!);
    // a page showing a new key's secret must never be cached or kept
    if (extra.created) res.set('Cache-Control', 'no-store');
    res.renderPage(
      'admin/api-keys/index',
      {
        title: 'API keys',
        keys,
        values: extra.values ?? { name: '' },
        errors: extra.errors ?? {},
        created: extra.created ?? null,
        formatTime: formatTime(req),
        docsUrl: `${ctx.config.baseUrl}/api/v1/openapi.json`,
      },
      { status: extra.status },
    );
  };

  router.get('/admin/api-keys', ...guard, (req, res) => renderIndex(req, res));

  // the secret is shown in the answer to this POST and nowhere else (not in a redirect's flash, which would store it)
  router.post('/admin/api-keys', ...guard, async (req, res) => {
    const values = KeyBody.parse(req.body);
    await orRerender(
      async () => {
        const { key, secret } = await createApiKey(ctx.db, req.actor!, values, ctx.clock.now());
        await renderIndex(req, res, { created: { name: key.name, secret }, status: 201 });
      },
      (errors, status) => renderIndex(req, res, { values, errors, status }),
    );
  });

  router.get('/admin/api-keys/:id/revoke', ...guard, async (req, res) => {
    const key = await findApiKey(ctx.db, req.actor!, KeyParams.parse(req.params).id);
    res.renderPage('admin/api-keys/revoke', { title: `Revoke ${key.name}`, key, formatTime: formatTime(req) });
  });

  router.post('/admin/api-keys/:id/revoke', ...guard, async (req, res) => {
    const key = await revokeApiKey(ctx.db, req.actor!, KeyParams.parse(req.params).id, ctx.clock.now());
    res.flash('success', `The key "${key.name}" is revoked: requests made with it are refused from now on.`);
    res.redirect(303, '/admin/api-keys');
  });

  return router;
}
