import { Readable } from 'node:stream';
import type { Db, Trx } from '../../db/index.js';
import { queryInTenant } from '../../db/tenant.js';
import { csvLine } from '../platform/csv.js';
import { minorPerMajor } from '../billing/money.js';
import type { UsageLogFilter } from './usage-rules.js';
import type { Actor } from '../access/index.js';
import {
  pageFrom,
  partnerUsageLog,
  usageLogQuery,
  type PartnerUsageRow,
  type UsageDbRow,
  type UsageLogPage,
} from './view.js';
import { english, type Translator } from '../platform/index.js';

/** A customer's usage log as CSV for its partner: the same masked rows as the table, streamed in batches. */

const builder = (db: Db) => db as unknown as Trx;

const CSV_BATCH = 5000;

export function usageCsvHeadings(timeZone: string, currency: string, tr: Translator = english): string[] {
  return [
    tr.t('Time ({zone})', { zone: timeZone }),
    tr.t('Direction'),
    tr.t('Status'),
    tr.t('From'),
    tr.t('To'),
    tr.t('Duration (s)'),
    tr.t('Units'),
    tr.t('Price ({currency})', { currency }),
  ];
}

const csvTimes = new Map<string, Intl.DateTimeFormat>();
function csvTime(at: string, timeZone: string): string {
  let f = csvTimes.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    csvTimes.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(at)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/**
 * A CSV line of a partner's row: only what the table shows, masked as it shows it; prices as numbers
 * in major units.
 */
export function usageCsvLine(r: PartnerUsageRow, timeZone: string, tr: Translator = english): string {
  return csvLine([
    csvTime(r.occurredAt, timeZone),
    tr.t(r.directionLabel),
    tr.t(r.statusLabel),
    r.from,
    r.to,
    r.durationSeconds,
    r.units,
    r.priceMinor / minorPerMajor(r.currency),
  ]);
}

/**
 * The whole filtered log as CSV, streamed in keyset batches of the same partner rows the table
 * shows (masked by the same code), so memory stays flat whatever the period. Resolves after the
 * checks (404 before any header is sent).
 */
export async function streamPartnerUsageCsv(
  db: Db,
  actor: Actor,
  customerId: string,
  product: string,
  filter: UsageLogFilter,
  tr: Translator = english,
): Promise<{ filename: string; stream: Readable }> {
  const first = await partnerUsageLog(db, actor, customerId, product, { ...filter, after: null, size: CSV_BATCH });
  const { customer } = first;
  const p = first.product;
  const trx = builder(db);
  async function* lines() {
    yield csvLine(usageCsvHeadings(actor.timeZone, customer.currency, tr));
    let page: UsageLogPage = first;
    for (;;) {
      yield page.rows.map((r) => usageCsvLine(r, actor.timeZone, tr)).join('');
      if (!page.nextCursor) return;
      const after = {
        occurredAt: page.rows[page.rows.length - 1]!.occurredAt,
        id: page.rows[page.rows.length - 1]!.id,
      };
      const [result] = await queryInTenant(db, actor.tenantId, [
        usageLogQuery(trx, { actor, customerId, product: p, filter }, { after, size: CSV_BATCH }).toQuery(),
      ]);
      page = pageFrom(result!.rows as UsageDbRow[], CSV_BATCH, p, actor.timeZone);
    }
  }
  return {
    filename: `usage-${customer.accountId}-${p}-${filter.from}-to-${filter.to}.csv`,
    stream: Readable.from(lines()),
  };
}
