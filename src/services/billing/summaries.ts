import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { queryInTenant } from '../../db/tenant.js';
import { NotFoundError } from '../../errors.js';
import { csvLine } from '../platform/csv.js';
import { isUuid } from '../customers/rules.js';
import { toDecimalString } from './money.js';
import { authorize, type Actor } from '../access/index.js';
import {
  acd,
  asr,
  periodLabel,
  productsOf,
  summaryQueryFrom,
  type SummaryQuery,
  type SummaryView,
} from './summary-rules.js';
import { todayIn, type Day } from '../assets/subscription-rules.js';
import { english, type Translator } from '../platform/index.js';

/**
 * Call summaries of a customer, Live (today by hour), Daily and Monthly, in UTC, read from the rollups
 * (usage_hourly for Live, usage_daily for the others; triggers on usage_records keep both) and never
 * from the records themselves: a year of Monthly reads at most 366 rows a product, whatever the
 * number of records.
 */

export type SummaryCustomer = { id: string; title: string; account_id: string; currency: string };
export type SummaryRow = {
  /** Live: the hour (0–23); Daily: the day; Monthly: the month's first day */
  start: string;
  label: string;
  attempts: number;
  connected: number;
  inProgress: number;
  asr: number | null;
  acd: number | null;
  billedSeconds: number;
  billedMinutes: number;
  chargeMinor: number;
  /** numbers of the invoices that already cover some of this row (its checkbox is then off) */
  invoices: number[];
  /** over and not invoiced: may be ticked */
  invoiceable: boolean;
};
export type Summary = {
  customer: SummaryCustomer;
  query: SummaryQuery;
  today: Day;
  rows: SummaryRow[];
  totals: Omit<SummaryRow, 'start' | 'label' | 'invoices' | 'invoiceable'>;
  /** calls and sessions going on now (Live) */
  channelsInUse: number;
};

type Raw = {
  start: Date | string | number;
  attempts: string;
  connected: string;
  in_progress: string;
  billed_seconds: string;
  billed_minutes: string;
  charge_minor: string;
};

const SUMS = `coalesce(sum(h.attempts), 0) as attempts, coalesce(sum(h.connected), 0) as connected,
  coalesce(sum(h.in_progress), 0) as in_progress, coalesce(sum(h.billed_seconds), 0) as billed_seconds,
  coalesce(sum(h.billed_minutes), 0) as billed_minutes, coalesce(sum(h.charge_minor), 0) as charge_minor`;
const SUM_OF = (cols: string) => cols.replaceAll('sum(h.', 'sum(b.');

/**
 * The rollup rows of the range, summed per period, with an empty row for a period without usage:
 * Live from the hours of today, Daily and Monthly from the days.
 */
function summaryRowsQuery(trx: Trx, tenantId: string, customerId: string, q: SummaryQuery, nowHour: number): Knex.Raw {
  const products = productsOf(q.product);
  if (q.view === 'live') {
    return trx.raw(
      `with b as (
         select extract(hour from h.hour at time zone 'UTC')::int as start, ${SUMS}
         from usage_hourly h
         where h.tenant_id = ? and h.customer_id = ? and h.product = any(?::text[])
           and h.hour >= (?::date::timestamp at time zone 'UTC')
           and h.hour < ((?::date + 1)::timestamp at time zone 'UTC')
         group by 1
       )
       select s.start, ${SUM_OF(SUMS)} from generate_series(0, ?::int) as s(start) left join b on b.start = s.start
       group by 1 order by 1 desc`,
      [tenantId, customerId, products, q.from, q.from, nowHour],
    );
  }
  const unit = q.view === 'monthly' ? 'month' : 'day';
  return trx.raw(
    `with b as (
       select date_trunc('${unit}', h.day)::date as start, ${SUMS}
       from usage_daily h
       where h.tenant_id = ? and h.customer_id = ? and h.product = any(?::text[])
         and h.day >= ?::date and h.day < (?::date + interval '1 ${unit}')
       group by 1
     )
     select s.start::date as start, ${SUM_OF(SUMS)}
     from generate_series(?::date, ?::date, interval '1 ${unit}') as s(start) left join b on b.start = s.start::date
     group by 1 order by 1 desc`,
    [tenantId, customerId, products, q.from, q.to, q.from, q.to],
  );
}

const dayText = (v: Date | string | number): string => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v));

function rowOf(view: SummaryView, r: Raw): Omit<SummaryRow, 'invoices' | 'invoiceable'> {
  const n = (v: string) => Number(v);
  const start = view === 'live' ? String(r.start) : dayText(r.start);
  return {
    start,
    label: periodLabel(view, start),
    attempts: n(r.attempts),
    connected: n(r.connected),
    inProgress: n(r.in_progress),
    asr: asr(n(r.connected), n(r.attempts)),
    acd: acd(n(r.billed_seconds), n(r.connected)),
    billedSeconds: n(r.billed_seconds),
    billedMinutes: n(r.billed_minutes),
    chargeMinor: n(r.charge_minor),
  };
}

/** The claims (invoiced_usage_days) of the range's days and products, with their invoice numbers. */
function invoicedQuery(trx: Trx, tenantId: string, customerId: string, q: SummaryQuery): Knex.QueryBuilder {
  const last = q.view === 'monthly' ? trx.raw(`(?::date + interval '1 month' - interval '1 day')::date`, [q.to]) : q.to;
  return trx('invoiced_usage_days as d')
    .join('invoices as i', function () {
      this.on('i.tenant_id', 'd.tenant_id').andOn('i.id', 'd.invoice_id');
    })
    .where({ 'd.tenant_id': tenantId, 'd.customer_id': customerId })
    .whereIn('d.product', productsOf(q.product))
    .where('d.day', '>=', q.from)
    .where('d.day', '<=', last)
    .distinct('d.day', 'i.number');
}

/** Invoice numbers per row start. */
function invoicedPeriods(view: SummaryView, rows: { day: Date | string; number: number }[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of rows) {
    const day = dayText(r.day);
    const key = view === 'monthly' ? `${day.slice(0, 7)}-01` : day;
    const list = out.get(key) ?? [];
    if (!list.includes(r.number)) list.push(r.number);
    out.set(
      key,
      list.sort((a, b) => a - b),
    );
  }
  return out;
}

/**
 * The whole summary in ONE round trip (queryInTenant): the customer, the rows, the invoiced days and
 * the calls in progress, as the asset list does, so a page costs one trip to the database.
 */
async function loadSummary(db: Db, tenantId: string, customerId: string, q: SummaryQuery, now: Date): Promise<Summary> {
  if (!isUuid(customerId)) throw new NotFoundError();
  const b = db as unknown as Trx; // knex only builds the text here
  const [customers, raw, claims, channels] = await queryInTenant(db, tenantId, [
    b('customers').where({ tenant_id: tenantId, id: customerId }).select('id', 'title', 'account_id', 'currency'),
    summaryRowsQuery(b, tenantId, customerId, q, now.getUTCHours()),
    q.view === 'live' ? 'select null as day, 0 as number where false' : invoicedQuery(b, tenantId, customerId, q),
    q.view === 'live'
      ? b('usage_records')
          .where({ tenant_id: tenantId, customer_id: customerId, status: 'in_progress' })
          .count({ n: '*' })
      : 'select 0 as n',
  ]);
  const customer = customers!.rows[0] as SummaryCustomer | undefined;
  if (!customer) throw new NotFoundError();
  const today = todayIn('UTC', now);
  const invoiced = invoicedPeriods(q.view, claims!.rows as { day: Date | string; number: number }[]);
  const rows: SummaryRow[] = (raw!.rows as Raw[]).map((r) => {
    const row = rowOf(q.view, r);
    const invoices = invoiced.get(row.start) ?? [];
    const end = q.view === 'monthly' ? lastDayOf(row.start) : row.start;
    return { ...row, invoices, invoiceable: q.view !== 'live' && invoices.length === 0 && end < today };
  });
  const sum = (k: 'attempts' | 'connected' | 'inProgress' | 'billedSeconds' | 'billedMinutes' | 'chargeMinor') =>
    rows.reduce((n, r) => n + r[k], 0);
  const totals = {
    attempts: sum('attempts'),
    connected: sum('connected'),
    inProgress: sum('inProgress'),
    billedSeconds: sum('billedSeconds'),
    billedMinutes: sum('billedMinutes'),
    chargeMinor: sum('chargeMinor'),
    asr: null as number | null,
    acd: null as number | null,
  };
  totals.asr = asr(totals.connected, totals.attempts);
  totals.acd = acd(totals.billedSeconds, totals.connected);
  return {
    customer,
    query: q,
    today,
    rows,
    totals,
    channelsInUse: Number((channels!.rows[0] as { n: string | number }).n),
  };
}

function lastDayOf(monthStart: Day): Day {
  const d = new Date(`${monthStart}T00:00:00Z`);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).toISOString().slice(0, 10);
}

export async function findSummaryCustomer(trx: Trx, tenantId: string, customerId: string): Promise<SummaryCustomer> {
  if (!isUuid(customerId)) throw new NotFoundError();
  const customer = await trx('customers')
    .where({ tenant_id: tenantId, id: customerId })
    .first<SummaryCustomer | undefined>('id', 'title', 'account_id', 'currency');
  if (!customer) throw new NotFoundError();
  return customer;
}

/** Staff: the summaries of one customer of the tenant. */
export async function customerSummary(
  db: Db,
  actor: Actor,
  customerId: string,
  raw: Record<string, unknown>,
  now: Date,
): Promise<Summary> {
  authorize(actor, 'billing_summary.view');
  const q = summaryQueryFrom(raw, todayIn('UTC', now));
  return loadSummary(db, actor.tenantId, customerId, q, now);
}

/** A company admin: the summaries of their own account (not of their inner customers: each bills on its own). */
export async function ownSummary(db: Db, actor: Actor, raw: Record<string, unknown>, now: Date): Promise<Summary> {
  authorize(actor, 'billing_summary.own');
  if (!actor.customerId) throw new NotFoundError();
  const q = summaryQueryFrom(raw, todayIn('UTC', now));
  return loadSummary(db, actor.tenantId, actor.customerId, q, now);
}

/** The table as CSV, numbers as numbers (money as a decimal in the customer's currency), in the page's order. */
export function summaryCsv(s: Summary, tr: Translator = english): { filename: string; body: string } {
  const live = s.query.view === 'live';
  const head = [
    tr.t('Period (UTC)'),
    tr.t('Attempts'),
    tr.t('Connected'),
    ...(live ? [tr.t('In progress')] : []),
    tr.t('ASR (%)'),
    tr.t('ACD (s)'),
    tr.t('Billed minutes'),
    tr.t('Charge ({currency})', { currency: s.customer.currency }),
  ];
  const line = (label: string, r: Summary['totals']) =>
    csvLine([
      label,
      r.attempts,
      r.connected,
      ...(live ? [r.inProgress] : []),
      r.asr === null ? null : Number(r.asr.toFixed(1)),
      r.acd === null ? null : Math.round(r.acd),
      r.billedMinutes,
      Number(toDecimalString(r.chargeMinor, s.customer.currency)),
    ]);
  const body =
    csvLine(head) +
    s.rows.map((r) => line(live ? `${s.today} ${r.label}` : r.label, r)).join('') +
    line(tr.t('Total'), s.totals);
  const range = live ? s.today : `${s.query.from}_${s.query.to}`;
  return { filename: `${s.customer.account_id}-${s.query.view}-${range}.csv`.replace(/[^A-Za-z0-9._-]/g, '_'), body };
}
