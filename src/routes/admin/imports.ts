import path from 'node:path';
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { allow } from '../../web/auth.js';
import { formText, idParam, orRerender, storableInput } from '../../web/forms.js';
import { fileUploads, MAX_UPLOAD_BYTES } from '../../web/multipart.js';
import type { Actor } from '../../services/access/index.js';
import {
  getImport,
  IMPORT_KINDS,
  listImports,
  previewImport,
  startImport,
  writeImport,
} from '../../services/integration/index.js';
import { msg, type Msg } from '../../services/platform/index.js';

/** Staff CSV import: upload and preview (nothing written), then write with a progress bar that htmx polls. */

const Params = z.object({ id: idParam() });
// the file itself arrives in req.files, from the multipart parser after the guard; its fields are
// checked for text PostgreSQL cannot store as every other form's are (the app-wide check ran before them)
const UploadBody = z.object({ kind: formText() });

const kindOptions = [
  { value: '', label: msg('Choose…') },
  ...IMPORT_KINDS.map((k) => ({ value: k.key, label: k.label })),
];
const maxMb = MAX_UPLOAD_BYTES / 1024 / 1024;

type FormState = { errors?: Record<string, Msg>; values?: Record<string, Msg>; status?: number };

export function adminImportRoutes(ctx: AppContext): Router {
  const router = Router();
  // this instance's uploads: read only for those allowed to import, a few at a time, into DATA_DIR
  const uploads = fileUploads({ dir: path.join(ctx.config.dataDir, 'uploads') });

  const renderIndex = async (res: Response, actor: Actor, form: FormState = {}) => {
    const imports = await listImports(ctx.db, actor);
    res.renderPage(
      'admin/imports/index',
      {
        title: msg('Imports'),
        imports,
        kinds: IMPORT_KINDS,
        kindOptions,
        maxMb,
        errors: form.errors ?? {},
        values: form.values ?? {},
      },
      { status: form.status },
    );
  };

  const renderImport = async (res: Response, actor: Actor, id: string, form: FormState = {}) => {
    const imp = await getImport(ctx.db, actor, id);
    res.renderPage(
      'admin/imports/show',
      {
        title: msg('Import · {file}', { file: imp.fileName }),
        imp,
        errors: form.errors ?? {},
        // without JavaScript a running import's page reloads itself every few seconds (layout's <noscript>)
        refreshWithoutScript: imp.status === 'running' ? 3 : undefined,
      },
      { fragment: 'admin/imports/_progress', status: form.status },
    );
  };

  // ?kind= preselects what the file holds (the customer's Assets tab links here for devices)
  router.get(
    '/admin/imports',
    ...allow('import.run', (req, res, actor) => {
      const { kind } = UploadBody.parse(req.query);
      return renderIndex(res, actor, { values: { kind: kindOptions.some((k) => k.value === kind) ? kind : '' } });
    }),
  );

  router.post(
    '/admin/imports',
    ...allow('import.run', uploads, storableInput(), async (req, res, actor) => {
      const { kind } = UploadBody.parse(req.body ?? {});
      const file = req.files?.find((f) => f.field === 'file');
      const values = { kind };
      if (file?.truncated)
        return renderIndex(res, actor, {
          errors: { file: msg('The file is larger than {mb} MB: split it.', { mb: maxMb }) },
          values,
          status: 422,
        });
      await orRerender(
        async () => {
          const content = file ? await file.text() : '';
          const id = await previewImport(ctx.db, actor, { kind, fileName: file?.name ?? '', content });
          res.redirect(303, `/admin/imports/${id}`);
        },
        (errors, status) => renderIndex(res, actor, { errors, values, status }),
      );
    }),
  );

  router.get(
    '/admin/imports/:id',
    ...allow('import.run', (req, res, actor) => renderImport(res, actor, Params.parse(req.params).id)),
  );

  router.post(
    '/admin/imports/:id/run',
    ...allow('import.run', async (req, res, actor) => {
      const { id } = Params.parse(req.params);
      await orRerender(
        async () => {
          await startImport(ctx.db, actor, id);
          writeInBackground(ctx, actor, id);
          res.redirect(303, `/admin/imports/${id}`);
        },
        (errors, status) => renderImport(res, actor, id, { errors, status }),
      );
    }),
  );

  return router;
}

/**
 * The rows are written after the answer; the page polls its progress (the row is in the database, so any
 * instance answers).
 */
function writeInBackground(ctx: AppContext, actor: Actor, id: string) {
  void writeImport(ctx.db, actor.tenantId, id).catch((err: unknown) => ctx.logger.error({ err }, 'import failed'));
}
