import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { MAX_UPLOAD_BYTES } from '../../web/multipart.js';
import {
  getImport,
  IMPORT_KINDS,
  listImports,
  previewImport,
  startImport,
  writeImport,
} from '../../services/integration/index.js';
import { orRerender } from '../../web/forms.js';

/** Staff CSV import: upload and preview (nothing written), then write with a progress bar that htmx polls. */
export function adminImportRoutes(ctx: AppContext): Router {
  const router = Router();
  const kindOptions = [{ value: '', label: 'Choose…' }, ...IMPORT_KINDS.map((k) => ({ value: k.key, label: k.label }))];
  const idOf = (req: Request) => String(req.params.id ?? '');

  const renderIndex = async (
    req: Request,
    res: Response,
    opts: { errors?: Record<string, string>; values?: Record<string, string>; status?: number } = {},
  ) => {
    const imports = await listImports(ctx.db, req.actor!);
    res.renderPage(
      'admin/imports/index',
      {
        title: 'Imports',
        imports,
        kinds: IMPORT_KINDS,
        kindOptions,
        maxMb: MAX_UPLOAD_BYTES / 1024 / 1024,
        errors: opts.errors ?? {},
        values: opts.values ?? {},
      },
      { status: opts.status },
    );
  };

  const renderImport = async (
    req: Request,
    res: Response,
    opts: { errors?: Record<string, string>; status?: number } = {},
  ) => {
    const imp = await getImport(ctx.db, req.actor!, idOf(req));
    res.renderPage(
      'admin/imports/show',
      { title: `Import · ${imp.fileName}`, imp, errors: opts.errors ?? {} },
      { fragment: 'admin/imports/_progress', status: opts.status },
    );
  };

  router.get('/admin/imports', ...allow('import.run'), (req, res) => renderIndex(req, res));

  router.post('/admin/imports', ...allow('import.run'), async (req, res) => {
    const kind = typeof req.body?.kind === 'string' ? req.body.kind : '';
    const file = req.files?.find((f) => f.field === 'file');
    await orRerender(
      async () => {
        if (file?.truncated)
          return renderIndex(req, res, {
            errors: { file: `The file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB: split it.` },
            values: { kind },
            status: 422,
          });
        const id = await previewImport(ctx.db, req.actor!, {
          kind,
          fileName: file?.name ?? '',
          content: file?.content.toString('utf8') ?? '',
        });
        res.redirect(303, `/admin/imports/${id}`);
      },
      (errors, status) => renderIndex(req, res, { errors, values: { kind }, status }),
    );
  });

  router.get('/admin/imports/:id', ...allow('import.run'), (req, res) => renderImport(req, res));

  router.post('/admin/imports/:id/run', ...allow('import.run'), async (req, res) => {
    await orRerender(
      async () => {
        await startImport(ctx.db, req.actor!, idOf(req));
        // written in the background; the page polls its progress (the row lives in the database, so any instance answers)
        void writeImport(ctx.db, req.actor!.tenantId, idOf(req)).catch((err: unknown) =>
          ctx.logger.error({ err }, 'import failed'),
        );
        res.redirect(303, `/admin/imports/${idOf(req)}`);
      },
      (errors, status) => renderImport(req, res, { errors, status }),
    );
  });

  return router;
}
