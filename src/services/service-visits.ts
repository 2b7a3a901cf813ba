import type { Trx } from '../db/index.js';
import type { RecordError } from '../errors.js';
import { RecordsError } from '../errors.js';
import { isUuid } from './customer-rules.js';
import { visitProblems } from './site-rules.js';

/**
 * Service visits from other systems (the ingestion API, and later CSV import): a batch is checked
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
const instant = (v: unknown): Date | null => (typeof v === 'string' && ISO_INSTANT.test(v) && !Number.isNaN(Date.parse(v)) ? new Date(v) : null);

/** Checks and writes a batch of visits for one tenant, inside the caller's tenant-bound transaction. */
export async function insertServiceVisits(trx: Trx, tenantId: string, records: IncomingVisit[], source: 'api' | 'import'): Promise<number> {
  const siteIds = [...new Set(records.map((r) => r.site_id).filter(isUuid))];
  const sites = new Set(
    siteIds.length ? ((await trx('sites').where({ tenant_id: tenantId }).whereIn('id', siteIds).select('id')) as { id: string }[]).map((r) => r.id) : [],
  );
  const services = new Map(((await trx('services').where({ tenant_id: tenantId }).select('id', 'name')) as { id: string; name: string }[]).map((s) => [s.name.toLowerCase(), s.id]));
  const errors: RecordError[] = [];
  const rows: Record<string, unknown>[] = [];
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
    if (r.started_at !== undefined && !startedAt) fail('started_at', 'Send an ISO 8601 time with its offset, such as 2026-11-24T09:30:00Z.');
    if (r.ended_at !== undefined && !endedAt) fail('ended_at', 'Send an ISO 8601 time with its offset, such as 2026-11-24T10:15:00Z.');
    for (const [field, message] of Object.entries(visitProblems({ vehicle, startedAt, endedAt, notes }))) {
      if (!errors.some((e) => e.index === index && e.field === field)) fail(field, message);
    }
    if (errors.length > before) return;
    rows.push({ tenant_id: tenantId, site_id: r.site_id, service_id: serviceId, vehicle: vehicle.trim(), started_at: startedAt, ended_at: endedAt, completed: r.completed ?? true, notes: notes.trim() || null, source });
  });
  if (errors.length) throw new RecordsError(errors.slice(0, 1000));
  for (let i = 0; i < rows.length; i += 1000) await trx('service_visits').insert(rows.slice(i, i + 1000));
  return rows.length;
}
