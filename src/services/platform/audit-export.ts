import type { Readable } from 'node:stream';
import type { Db } from '../../db/index.js';
import { copyOut, openTenantConnection } from '../../db/tenant.js';
import { BadRequestError } from '../../errors.js';
import { authorize, type Actor } from '../access/index.js';

/**
 * The tenant's audit log for auditors: JSON Lines in chain order, each line the entry's canonical JSON
 * (keys sorted, no whitespace) with its `hash` and `prev_hash`, so anyone can recompute the chain offline
 * (README, "Verifying an audit export"). A period exports the contiguous run of the chain from its first
 * to its last entry in the period, so the links between exported lines all hold.
 */

export type AuditPeriod = { from: string | null; to: string | null };

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function isRealDay(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return DAY.test(s) && !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** `from` and `to` from the query string: inclusive dates (YYYY-MM-DD), either may be left out. */
export function auditPeriodFrom(raw: { from?: unknown; to?: unknown }): AuditPeriod {
  const day = (name: string, v: unknown): string | null => {
    if (v === undefined || v === '') return null;
    if (typeof v !== 'string' || !isRealDay(v))
      throw new BadRequestError('{name} must be a date like 2026-12-01.').withValues({ name });
    return v;
  };
  const period = { from: day('from', raw.from), to: day('to', raw.to) };
  if (period.from && period.to && period.from > period.to) throw new BadRequestError('from must not be after to.');
  return period;
}

export function auditExportFilename(period: AuditPeriod): string {
  return `audit-log${period.from ? `-from-${period.from}` : ''}${period.to ? `-to-${period.to}` : ''}.jsonl`;
}

/**
 * Streams the export over its own tenant connection (one export a person at a time, like the CSV
 * exports); the connection goes back when the stream ends or is destroyed.
 */
export async function streamAuditExport(
  db: Db,
  actor: Actor,
  period: AuditPeriod,
  opts: { signal?: AbortSignal } = {},
): Promise<{ filename: string; stream: Readable }> {
  authorize(actor, 'audit.view');
  // the period's days in the admin's time zone; COPY takes no parameters, so knex inlines the literals
  const inPeriod = db('audit_log')
    .where('tenant_id', actor.tenantId)
    .modify((q) => {
      if (period.from) q.whereRaw('at >= (?::date)::timestamp at time zone ?', [period.from, actor.timeZone]);
      if (period.to) q.whereRaw('at < (?::date + 1)::timestamp at time zone ?', [period.to, actor.timeZone]);
    });
  const select = db
    .from('audit_log as l')
    .where('l.tenant_id', actor.tenantId)
    .whereBetween('l.chain_seq', [
      db.raw('(?)', [inPeriod.clone().min('chain_seq')]),
      db.raw('(?)', [inPeriod.clone().max('chain_seq')]),
    ])
    .orderBy('l.chain_seq')
    .select(db.raw("audit_canonical_json(audit_entry_document(l) || jsonb_build_object('hash', l.hash))"))
    .toQuery();
  const conn = await openTenantConnection(db, actor.tenantId, { holder: actor.userId });
  // CSV with delimiter and quote characters a canonical JSON line never holds raw: each line goes out as is
  const copy = await copyOut(
    conn,
    `copy (${select}) to stdout with (format csv, delimiter E'\\x01', quote E'\\x02')`,
    opts.signal,
  );
  return { filename: auditExportFilename(period), stream: copy };
}
