import type { Db } from '../../db/index.js';
import { inTenant } from '../../db/tenant.js';
import { ConflictError, NotFoundError, ValidationError, type RecordError } from '../../errors.js';
import { audit, INSTANCE, isMessage, isStorableText, msg, type Msg } from '../platform/index.js';
import { formatDateTime } from '../platform/time-format.js';
import { isUuid } from '../customers/rules.js';
import { ingestBatch, MAX_BATCH, validateBatch } from './ingestion.js';
import { importKind, lineOf, parseCsvRecords, type CsvImportKind } from './import-kinds.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { cutText } from '../platform/text-rules.js';

/**
 * Staff CSV imports, in three reusable pieces: parseCsvRecords (import-kinds.ts: a file into
 * records, by a CSV library), validateBatch from ingestion.ts (the same checks as the API), and
 * writeImport (ingestBatch, the API's checks and writer, in batches, one transaction, progress on
 * the side).
 */

export const WRITE_BATCH = 1000;
/** the preview lists this many problems; the count says how many there are */
export const PREVIEW_ERRORS = 100;

/** Every problem of every record, in chunks of the API's batch size, inside the tenant. */
async function problemsOf(
  db: Db,
  tenantId: string,
  kind: CsvImportKind,
  records: Record<string, unknown>[],
): Promise<RecordError[]> {
  const errors: RecordError[] = [];
  for (let start = 0; start < records.length; start += MAX_BATCH) {
    const chunk = records.slice(start, start + MAX_BATCH);
    const { errors: found } = await inTenant(db, tenantId, (trx) => validateBatch(trx, tenantId, kind.ingest, chunk));
    errors.push(...found.map((e) => ({ ...e, index: e.index + start })));
  }
  return errors;
}

export type ImportView = {
  id: string;
  kind: string;
  kindLabel: string;
  fileName: string;
  total: number;
  written: number;
  percent: number;
  status: 'invalid' | 'previewed' | 'running' | 'done' | 'failed';
  /** the state in words, a catalog message */
  statusLabel: string;
  /** each problem by line; its message a catalog message, translated where shown */
  errors: (Omit<RecordError, 'message'> & { message: Msg; line: number })[];
  errorCount: number;
  /** why it failed: a catalog message, translated where shown */
  message: Msg | null;
  createdBy: string;
  createdAt: Date;
  createdAtLabel: string;
  finishedAt: Date | null;
  finishedAtLabel: string;
};

export const IMPORT_STATUS_LABELS: Record<ImportView['status'], string> = {
  invalid: msg('invalid'),
  previewed: msg('previewed'),
  running: msg('running'),
  done: msg('done'),
  failed: msg('failed'),
};

/**
 * A failure's reason as the import row keeps it (a text column): a message with values as its JSON,
 * so the page can still translate it.
 */
function storedMessage(message: Msg): string {
  return isMessage(message) ? JSON.stringify({ id: message.id, values: message.values }) : message;
}

/**
 * A record's problem as the page shows it: the checks' words are the API's English (record-rules.ts),
 * and those with a value become catalog messages here, so a reader in another language gets them too.
 */
function shownProblem(message: string): Msg {
  let m = /^has at most (\d+) characters$/.exec(message);
  if (m) return msg('has at most {max} characters', { max: m[1] });
  m = /^must be between (\S+) and (\S+)$/.exec(message);
  if (m) return msg('must be between {min} and {max}', { min: m[1], max: m[2] });
  m = /^must be one of (.+)$/.exec(message);
  if (m) return msg('must be one of {values}', { values: m[1] });
  return message;
}

function shownMessage(stored: string | null): Msg | null {
  if (!stored?.startsWith('{"id":')) return stored;
  try {
    const parsed = JSON.parse(stored) as unknown;
    return isMessage(parsed) ? parsed : stored;
  } catch {
    return stored;
  }
}

type ImportRow = {
  id: string;
  kind: string;
  file_name: string;
  total: number;
  written: number;
  status: ImportView['status'];
  errors: RecordError[];
  error_count: number;
  message: string | null;
  created_by_label: string;
  created_at: Date;
  finished_at: Date | null;
};
const VIEW_COLUMNS = [
  'id',
  'kind',
  'file_name',
  'total',
  'written',
  'status',
  'errors',
  'error_count',
  'message',
  'created_by_label',
  'created_at',
  'finished_at',
];

function viewOf(actor: Actor, r: ImportRow): ImportView {
  return {
    id: r.id,
    kind: r.kind,
    kindLabel: importKind(r.kind)?.label ?? r.kind,
    fileName: r.file_name,
    total: r.total,
    written: r.written,
    percent: r.total ? Math.floor((r.written / r.total) * 100) : 0,
    status: r.status,
    statusLabel: IMPORT_STATUS_LABELS[r.status] ?? r.status,
    errors: r.errors.map((e) => ({ ...e, message: shownProblem(e.message), line: lineOf(e.index) })),
    errorCount: r.error_count,
    message: shownMessage(r.message),
    createdBy: r.created_by_label.replace(/\s*<[^>]*>$/, ''),
    createdAt: r.created_at,
    createdAtLabel: formatDateTime(r.created_at, actor.timeZone),
    finishedAt: r.finished_at,
    finishedAtLabel: formatDateTime(r.finished_at, actor.timeZone),
  };
}

/**
 * Step 1: read and check the file, write nothing but the import itself, and show what was found.
 * A file without problems can then be written (step 2); one with problems is kept as `invalid`.
 */
export async function previewImport(
  db: Db,
  actor: Actor,
  input: { kind: string; fileName: string; content: string },
): Promise<string> {
  authorize(actor, 'import.run');
  const kind = importKind(input.kind);
  if (!kind) throw new ValidationError({ kind: msg('Choose what the file holds.') });
  if (!input.content.trim()) throw new ValidationError({ file: msg('Choose a CSV file.') });
  // a file decoded as UTF-8 holds no unpaired surrogate, but it may hold a NUL, which PostgreSQL cannot store
  if (!isStorableText(input.content)) {
    const at = input.content.indexOf('\u0000');
    throw new ValidationError({
      file:
        at >= 0
          ? msg('The file holds a NUL character or an unpaired surrogate (line {line}): is it a CSV text file?', {
              line: input.content.slice(0, at).split('\n').length,
            })
          : msg('The file holds a NUL character or an unpaired surrogate: is it a CSV text file?'),
    });
  }
  if (!isStorableText(input.fileName))
    throw new ValidationError({
      file: msg("The file's name holds a character that cannot be stored (NUL or an unpaired surrogate): rename it."),
    });
  const records = parseCsvRecords(kind, input.content);
  const errors = await problemsOf(db, actor.tenantId, kind, records);
  return asActor(db, actor, async (trx) => {
    const [row] = await trx('data_imports')
      .insert({
        tenant_id: actor.tenantId,
        kind: kind.key,
        file_name: cutText(input.fileName, 200) || 'upload.csv',
        content: input.content,
        total: records.length,
        status: errors.length ? 'invalid' : 'previewed',
        errors: JSON.stringify(errors.slice(0, PREVIEW_ERRORS)),
        error_count: errors.length,
        created_by: actor.userId,
        created_by_label: `${actor.name} <${actor.email}>`,
      })
      .returning('id');
    return (row as { id: string }).id;
  });
}

export async function getImport(db: Db, actor: Actor, id: string): Promise<ImportView> {
  authorize(actor, 'import.run');
  if (!isUuid(id)) throw new NotFoundError();
  const row = await asActor(db, actor, (trx) =>
    trx('data_imports').where({ tenant_id: actor.tenantId, id }).first<ImportRow | undefined>(VIEW_COLUMNS),
  );
  if (!row) throw new NotFoundError();
  return viewOf(actor, row);
}

export async function listImports(db: Db, actor: Actor): Promise<ImportView[]> {
  authorize(actor, 'import.run');
  const rows = await asActor(db, actor, (trx) =>
    trx('data_imports')
      .where({ tenant_id: actor.tenantId })
      .orderBy('created_at', 'desc')
      .limit(20)
      .select<ImportRow[]>(VIEW_COLUMNS),
  );
  return rows.map((r) => viewOf(actor, r));
}

/** Step 2, claimed once: a previewed import becomes running (a second click, or another instance, is refused). */
export async function startImport(db: Db, actor: Actor, id: string): Promise<void> {
  authorize(actor, 'import.run');
  if (!isUuid(id)) throw new NotFoundError();
  await asActor(db, actor, async (trx) => {
    const row = await trx('data_imports')
      .where({ tenant_id: actor.tenantId, id })
      .forUpdate()
      .first<{ status: string; kind: string; total: number } | undefined>('status', 'kind', 'total');
    if (!row) throw new NotFoundError();
    if (row.status !== 'previewed')
      throw new ConflictError(
        row.status === 'invalid'
          ? msg('This file has problems: correct them and upload it again.')
          : msg('This import has already been started.'),
      );
    await trx('data_imports')
      .where({ tenant_id: actor.tenantId, id })
      .update({ status: 'running', heartbeat_at: trx.fn.now() });
    await audit(trx, actor, {
      entityType: 'data_import',
      entityId: id,
      action: 'data_import.started',
      after: { kind: row.kind, rows: row.total },
    });
  });
}

/** How often a running import says it is alive, and how long a silence means its instance is gone. */
export const IMPORT_HEARTBEAT_MS = 10_000;
export const IMPORT_STALLED_AFTER_MS = 2 * 60_000;
export const STALLED_IMPORT_MESSAGE = msg(
  'The server writing this import stopped before it finished. Nothing was written: upload the file again.',
);

/** The writer's own updates of the import row, only while it is still running (a job may have failed it). */
async function whileRunning(db: Db, tenantId: string, id: string, fields: Record<string, unknown>): Promise<boolean> {
  const n = await inTenant(db, tenantId, (p) =>
    p('data_imports')
      .where({ tenant_id: tenantId, id, status: 'running' })
      .update({ ...fields, heartbeat_at: p.fn.now() }),
  );
  return n > 0;
}

class ImportTakenAway extends Error {}

/**
 * Writes a started import: the records again through the same checks (the data may have changed
 * since the preview), then the kind's writer in batches, all in one transaction; after each batch
 * the progress goes to the import row over another connection. Any failure rolls everything back
 * and marks the import failed with the reason. While it works it stamps the row's heartbeat (after
 * each batch, and every IMPORT_HEARTBEAT_MS for a slow one); if its instance dies, the transaction
 * dies with it and failStalledImports marks the import failed once the heartbeat is old. An import
 * marked failed meanwhile is not finished: the writer sees that and rolls back.
 */
export async function writeImport(
  db: Db,
  tenantId: string,
  id: string,
  opts: { batchSize?: number } = {},
): Promise<void> {
  const batchSize = opts.batchSize ?? WRITE_BATCH;
  const key = { tenant_id: tenantId, id };
  const row = await inTenant(db, tenantId, (trx) =>
    trx('data_imports')
      .where(key)
      .first<{ kind: string; content: string; status: string } | undefined>('kind', 'content', 'status'),
  );
  if (!row || row.status !== 'running') return;
  if (!(await whileRunning(db, tenantId, id, { running_on: INSTANCE.slice(0, 200) }))) return;
  const beat = setInterval(() => void whileRunning(db, tenantId, id, {}).catch(() => undefined), IMPORT_HEARTBEAT_MS);
  beat.unref();
  try {
    const kind = importKind(row.kind)!;
    const records = parseCsvRecords(kind, row.content);
    await inTenant(db, tenantId, async (trx) => {
      for (let start = 0; start < records.length; start += batchSize) {
        const result = await ingestBatch(trx, tenantId, kind.ingest, records.slice(start, start + batchSize));
        if ('errors' in result) {
          const [first] = result.errors;
          // the record's problem is the API's English words (record-rules.ts)
          throw new ConflictError('Line {line}: {field} {problem}. Nothing was written.').withValues({
            line: lineOf(first!.index + start),
            field: first!.field,
            problem: first!.message,
          });
        }
        const written = Math.min(records.length, start + batchSize);
        if (!(await whileRunning(db, tenantId, id, { written }))) throw new ImportTakenAway();
      }
      const done = await trx('data_imports')
        .where({ ...key, status: 'running' })
        .update({ status: 'done', written: records.length, finished_at: trx.fn.now() });
      if (!done) throw new ImportTakenAway();
    });
  } catch (err) {
    // marked failed by the job while this instance was silent: its reason stands, and nothing was written
    if (err instanceof ImportTakenAway) return;
    const message = storedMessage(
      err instanceof ValidationError
        ? (Object.values(err.fields)[0] ?? err.message)
        : err instanceof ConflictError
          ? msg(err.message, err.values)
          : msg('The import stopped on an unexpected error. Nothing was written.'),
    );
    await inTenant(db, tenantId, (trx) =>
      trx('data_imports')
        .where({ ...key, status: 'running' })
        .update({ status: 'failed', written: 0, message, finished_at: trx.fn.now() }),
    );
    if (!(err instanceof ConflictError || err instanceof ValidationError)) throw err;
  } finally {
    clearInterval(beat);
  }
}

/**
 * For the scheduled job, in every tenant: a running import whose writer has given no sign of life
 * for IMPORT_STALLED_AFTER_MS (its instance died or lost the database, and its transaction with
 * it) is marked failed with the reason, which its page shows; nothing of it was written. Returns
 * how many it marked.
 */
export async function failStalledImports(db: Db, now: Date): Promise<number> {
  const before = new Date(now.getTime() - IMPORT_STALLED_AFTER_MS);
  return db.transaction(async (trx) => {
    const failed: { tenant_id: string; id: string; running_on: string | null }[] = await trx('data_imports')
      .where('status', 'running')
      .whereRaw('coalesce(heartbeat_at, created_at) < ?', [before])
      .update({ status: 'failed', written: 0, message: STALLED_IMPORT_MESSAGE, finished_at: now })
      .returning(['tenant_id', 'id', 'running_on']);
    for (const f of failed) {
      await audit(
        trx,
        { system: 'Import recovery', tenantId: f.tenant_id },
        {
          entityType: 'data_import',
          entityId: f.id,
          action: 'data_import.failed',
          after: { status: 'failed', reason: 'no sign of life from its server', server: f.running_on },
        },
      );
    }
    return failed.length;
  });
}
