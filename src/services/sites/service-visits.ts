import type { Trx } from '../../db/index.js';
import type { RecordError } from '../../errors.js';
import { RecordsError } from '../../errors.js';
import { isUuid } from '../customers/rules.js';
import type { IngestKind } from '../integration/index.js';
import { visitProblems } from './rules.js';

/**
 * Service visits from other systems (the ingestion API and CSV import): a batch is checked
 * whole, naming each bad record by its index, and written all together or not at all.
 */

export const MAX_VISIT_BATCH = 10_000;

export type IncomingVisit = {
  site_id?: unknown;
  service?: unknown;
  vehicle?: unknown;
  started_at?: unknown;
  ended_at?: unknown;
  completed?: unknown;
  notes?: unknown;
};

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/;
const instant = (v: unknown): Date | null =>
  typeof v === 'string' && ISO_INSTANT.test(v) && !Number.isNaN(Date.parse(v)) ? new Date(v) : null;

type VisitRow = {
  tenant_id: string;
  site_id: string;
  service_id: string | null;
  vehicle: string;
  started_at: Date;
  ended_at: Date;
  completed: boolean;
  notes: string | null;
  source: 'api' | 'import';
};

/**
 * Checks a batch of visits for one tenant, inside the caller's tenant-bound transaction: each record's
 * shape, and that its site and service are the tenant's. Writes nothing; `errors` name each bad
 * record by its index (at most 1,000 of them).
 */
export async function checkServiceVisits(
  trx: Trx,
  tenantId: string,
  records: IncomingVisit[],
  source: 'api' | 'import',
): Promise<{ records: VisitRow[]; errors: RecordError[] }> {
  const siteIds = [...new Set(records.map((r) => r?.site_id).filter(isUuid))];
  const sites = new Set(
    siteIds.length
      ? (
          (await trx('sites').where({ tenant_id: tenantId }).whereIn('id', siteIds).select('id')) as { id: string }[]
        ).map((r) => r.id)
      : [],
  );
  const services = new Map(
    ((await trx('services').where({ tenant_id: tenantId }).select('id', 'name')) as { id: string; name: string }[]).map(
      (s) => [s.name.toLowerCase(), s.id],
    ),
  );
  const errors: RecordError[] = [];
  const rows: VisitRow[] = [];
  records.forEach((r, index) => {
    const fail = (field: string, message: string) => errors.push({ index, field, message });
    if (!r || typeof r !== 'object') return fail('record', 'Each record must be an object.');
    const startedAt = instant(r.started_at);
    const endedAt = instant(r.ended_at);
    const vehicle = typeof r.vehicle === 'string' ? r.vehicle : '';
    const notes = typeof r.notes === 'string' ? r.notes : '';
    const before = errors.length;
    if (!isUuid(r.site_id) || !sites.has(r.site_id)) fail('site_id', 'No site of yours has this id.');
    let serviceId: string | null = null;
    if (r.service !== undefined && r.service !== null && r.service !== '') {
      serviceId = typeof r.service === 'string' ? (services.get(r.service.trim().toLowerCase()) ?? null) : null;
      if (!serviceId) fail('service', 'No service of yours has this name.');
    }
    if (r.completed !== undefined && typeof r.completed !== 'boolean') fail('completed', 'Send true or false.');
    if (r.notes !== undefined && r.notes !== null && typeof r.notes !== 'string') fail('notes', 'Send notes as text.');
    if (r.started_at !== undefined && !startedAt)
      fail('started_at', 'Send an ISO 8601 time with its offset, such as 2026-11-24T09:30:00Z.');
    if (r.ended_at !== undefined && !endedAt)
      fail('ended_at', 'Send an ISO 8601 time with its offset, such as 2026-11-24T10:15:00Z.');
    for (const [field, message] of Object.entries(visitProblems({ vehicle, startedAt, endedAt, notes }))) {
      if (!errors.some((e) => e.index === index && e.field === field)) fail(field, message);
    }
    if (errors.length > before) return;
    rows.push({
      tenant_id: tenantId,
      site_id: r.site_id as string,
      service_id: serviceId,
      vehicle: vehicle.trim(),
      started_at: startedAt!,
      ended_at: endedAt!,
      completed: (r.completed as boolean | undefined) ?? true,
      notes: notes.trim() || null,
      source,
    });
  });
  return { records: rows, errors: errors.slice(0, 1000) };
}

async function writeServiceVisits(trx: Trx, rows: VisitRow[]): Promise<number> {
  for (let i = 0; i < rows.length; i += 1000) await trx('service_visits').insert(rows.slice(i, i + 1000));
  return rows.length;
}

/** Checks and writes a batch of visits for one tenant, all or nothing (the ingestion API). */
export async function insertServiceVisits(
  trx: Trx,
  tenantId: string,
  records: IncomingVisit[],
  source: 'api' | 'import',
): Promise<number> {
  const { records: rows, errors } = await checkServiceVisits(trx, tenantId, records, source);
  if (errors.length) throw new RecordsError(errors);
  return writeServiceVisits(trx, rows);
}

/** Service visits as a kind of CSV import: the same checks and writer as the API. */
export const serviceVisitKind: IngestKind<never, VisitRow> = {
  name: 'service-visits',
  validate: (trx, tenantId, input) => checkServiceVisits(trx, tenantId, input as IncomingVisit[], 'import'),
  write: (trx, _tenantId, rows) => writeServiceVisits(trx, rows),
};
