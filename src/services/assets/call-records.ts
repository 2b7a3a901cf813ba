import { Readable } from 'node:stream';
import type { Db, Trx } from '../../db/index.js';
import { findAssetInScope } from './detail.js';
import { formatDuration, lastMonthStart, otherParty } from './call-record-rules.js';
import { csvLine } from '../platform/csv.js';
import { formatDateTime } from '../platform/time-format.js';
import { formatMoney, toDecimalString } from '../billing/money.js';
import { type Product, PRODUCT_LABELS } from '../billing/usage-rules.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { english, msg, type Translator } from '../platform/i18n.js';

/**
 * An asset's call data records: its voice and SMS usage records of the last month, newest first,
 * read by keyset on usage_records_asset_idx. The page and the CSV read the same rows through the
 * same query (the CSV in keyset batches, streamed), over the same period fixed by `now`.
 */

export const CDR_PAGE_SIZE = 50;
const CSV_BATCH = 2000;
const CDR_PRODUCTS: Product[] = ['voice', 'sms'];

type CdrRow = {
  id: string;
  occurred_at: Date;
  product: Product;
  direction: 'inbound' | 'outbound';
  from_number: string;
  to_number: string;
  duration_seconds: number;
  price_minor: string;
  currency: string;
};

export type CallRecord = {
  id: string;
  at: Date;
  atLabel: string;
  typeLabel: string;
  direction: string;
  number: string;
  durationSeconds: number | null;
  durationLabel: string;
  costMinor: number;
  currency: string;
  costLabel: string;
};

async function batchOf(
  trx: Trx,
  asset: { tenant_id: string; id: string },
  since: Date,
  until: Date,
  after: string,
  limit: number,
): Promise<CdrRow[]> {
  const q = trx('usage_records as u')
    .where({ 'u.tenant_id': asset.tenant_id, 'u.asset_id': asset.id })
    .whereIn('u.product', CDR_PRODUCTS)
    .where('u.occurred_at', '>=', since)
    .where('u.occurred_at', '<=', until);
  if (after) {
    q.whereRaw(
      '(u.occurred_at, u.id) < (select p.occurred_at, p.id from usage_records p where p.tenant_id = ? and p.id = ?)',
      [asset.tenant_id, after],
    );
  }
  return q
    .orderBy([
      { column: 'u.occurred_at', order: 'desc' },
      { column: 'u.id', order: 'desc' },
    ])
    .limit(limit)
    .select(
      'u.id',
      'u.occurred_at',
      'u.product',
      'u.direction',
      'u.from_number',
      'u.to_number',
      'u.duration_seconds',
      'u.price_minor',
      'u.currency',
    );
}

function recordOf(actor: Actor, r: CdrRow): CallRecord {
  const costMinor = Number(r.price_minor);
  const voice = r.product === 'voice';
  return {
    id: String(r.id),
    at: r.occurred_at,
    atLabel: formatDateTime(r.occurred_at, actor.timeZone),
    typeLabel: PRODUCT_LABELS[r.product],
    direction: r.direction === 'inbound' ? msg('Inbound') : msg('Outbound'),
    number: otherParty(r),
    durationSeconds: voice ? r.duration_seconds : null,
    durationLabel: voice ? formatDuration(r.duration_seconds) : '',
    costMinor,
    currency: r.currency,
    costLabel: formatMoney(costMinor, r.currency),
  };
}

export type CallRecordsPage = {
  asset: { id: string; identifier: string; name: string };
  since: Date;
  until: Date;
  sinceLabel: string;
  untilLabel: string;
  rows: CallRecord[];
  after: string;
  nextAfter: string | null;
};

export async function listCallRecords(
  db: Db,
  actor: Actor,
  assetId: string,
  input: { after: string; now: Date },
): Promise<CallRecordsPage> {
  authorize(actor, 'cdr.view');
  const since = lastMonthStart(input.now);
  return asActor(db, actor, async (trx) => {
    const asset = await findAssetInScope(trx, actor, assetId);
    const rows = await batchOf(trx, asset, since, input.now, input.after, CDR_PAGE_SIZE + 1);
    const page = rows.slice(0, CDR_PAGE_SIZE);
    return {
      asset: { id: asset.id, identifier: asset.identifier, name: asset.name },
      since,
      until: input.now,
      sinceLabel: formatDateTime(since, actor.timeZone),
      untilLabel: formatDateTime(input.now, actor.timeZone),
      rows: page.map((r) => recordOf(actor, r)),
      after: input.after,
      nextAfter: rows.length > CDR_PAGE_SIZE ? String(page[page.length - 1]!.id) : null,
    };
  });
}

export const CDR_CSV_HEADER = [
  msg('Time (UTC)'),
  msg('Type'),
  msg('Direction'),
  msg('Number'),
  msg('Duration (seconds)'),
  msg('Cost'),
  msg('Currency'),
] as const;

export function cdrCsvCells(r: CallRecord, tr: Translator = english): (string | number | null)[] {
  return [
    r.at.toISOString(),
    tr.t(r.typeLabel),
    tr.t(r.direction),
    r.number,
    r.durationSeconds,
    Number(toDecimalString(r.costMinor, r.currency)),
    r.currency,
  ];
}

/**
 * The whole last month as CSV, streamed in keyset batches (each its own short transaction, so a
 * slow reader holds no transaction open); the asset is checked before the first byte.
 */
export async function streamCallRecordsCsv(
  db: Db,
  actor: Actor,
  assetId: string,
  now: Date,
  tr: Translator = english,
): Promise<{ filename: string; stream: Readable }> {
  authorize(actor, 'cdr.view');
  const since = lastMonthStart(now);
  const asset = await asActor(db, actor, (trx) => findAssetInScope(trx, actor, assetId));
  async function* lines() {
    yield csvLine(CDR_CSV_HEADER.map((h) => tr.t(h)));
    let after = '';
    for (;;) {
      const rows = await asActor(db, actor, (trx) => batchOf(trx, asset, since, now, after, CSV_BATCH));
      if (rows.length) yield rows.map((r) => csvLine(cdrCsvCells(recordOf(actor, r), tr))).join('');
      if (rows.length < CSV_BATCH) return;
      after = String(rows[rows.length - 1]!.id);
    }
  }
  const day = now.toISOString().slice(0, 10);
  return {
    filename: `call-records-${asset.identifier.replace(/[^A-Za-z0-9_-]/g, '_')}-${day}.csv`,
    stream: Readable.from(lines()),
  };
}
