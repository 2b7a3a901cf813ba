import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { queryInTenant, type TenantStatement } from '../../db/tenant.js';
import { NotFoundError } from '../../errors.js';
import { formatDateTimeSeconds } from '../platform/time-format.js';
import { type Direction, type Product, PRODUCT_LABELS, type UsageStatus } from '../billing/usage-rules.js';
import { formatMoney } from '../billing/money.js';
import { maskNumber } from './number-masking.js';
import {
  DIRECTION_LABELS,
  encodeUsageCursor,
  isProduct,
  USAGE_STATUS_LABELS,
  type DailyUsage,
  type UsageCursor,
  type UsageLogFilter,
} from './usage-rules.js';
import { type Actor, asActor, authorize, partnerCustomerIds } from '../access/index.js';
import { partnerCustomersQuery, shapeCustomer, type CustomerDbRow, type PartnerCustomer } from './partner-customers.js';
import { msg, type Msg } from '../platform/index.js';

/**
 * The partner view of a customer's usage log, read only. Every usage row a partner gets is built
 * here (the CSV export reads these rows too), without the contact name or message content (never
 * selected) and with the numbers masked, so no route, fragment or export can carry them.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const builder = (db: Db) => db as unknown as Trx;

/**
 * A usage record as a partner sees it. It has no contact name and no content, and its numbers are
 * already masked: this type is all a partner's page, fragment or CSV is built from.
 */
export type PartnerUsageRow = {
  id: string;
  occurredAt: string;
  timeLabel: string;
  direction: Direction;
  directionLabel: string;
  status: UsageStatus;
  statusLabel: string;
  from: string;
  to: string;
  durationSeconds: number;
  units: number;
  quantityLabel: Msg;
  priceMinor: number;
  priceLabel: string;
  currency: string;
};

/** The columns a partner's rows are read from: an explicit list, so contact_name and content are never selected. */
export const PARTNER_USAGE_COLUMNS = [
  'u.id',
  'u.occurred_at',
  'u.direction',
  'u.status',
  'u.from_number',
  'u.to_number',
  'u.duration_seconds',
  'u.units',
  'u.price_minor',
  'u.currency',
] as const;
/** A usage_records row as the partner view reads it: never the contact name or the content. */
export type UsageDbRow = {
  id: number;
  at: string;
  occurred_at: Date;
  direction: Direction;
  status: UsageStatus;
  from_number: string;
  to_number: string;
  duration_seconds: number;
  units: number;
  price_minor: number;
  currency: string;
};

function quantityLabel(product: Product, r: UsageDbRow): Msg {
  if (product === 'voice' || product === 'video') {
    const m = Math.floor(r.duration_seconds / 60);
    const s = r.duration_seconds % 60;
    return m ? msg('{minutes} min {seconds} s', { minutes: m, seconds: s }) : msg('{seconds} s', { seconds: s });
  }
  return product === 'sms'
    ? msg('{count, plural, one {# part} other {# parts}}', { count: r.units })
    : msg('{count, plural, one {# message} other {# messages}}', { count: r.units });
}

/** How a row shows its numbers: masked for partners; the customer's own /usage shows them in full. */
export type NumberDisplay = (number: string) => string;

function shapeUsage(r: UsageDbRow, product: Product, timeZone: string, show: NumberDisplay): PartnerUsageRow {
  return {
    id: String(r.id),
    occurredAt: r.at,
    timeLabel: formatDateTimeSeconds(r.occurred_at, timeZone),
    direction: r.direction,
    directionLabel: DIRECTION_LABELS[r.direction] ?? r.direction,
    status: r.status,
    statusLabel: USAGE_STATUS_LABELS[r.status] ?? r.status,
    from: show(r.from_number),
    to: show(r.to_number),
    durationSeconds: r.duration_seconds,
    units: r.units,
    quantityLabel: quantityLabel(product, r),
    priceMinor: Number(r.price_minor),
    priceLabel: formatMoney(r.price_minor, r.currency),
    currency: r.currency,
  };
}

type LogScope = { actor: Actor; customerId: string; product: Product; filter: Omit<UsageLogFilter, 'after' | 'size'> };

/**
 * The records of one customer's product in the period and filters, with the partner's reach and
 * the product's being enabled as conditions of the statement itself (evaluated once, not per row).
 */
function scopedUsage(trx: Trx, s: LogScope): Knex.QueryBuilder {
  const { actor, customerId, product, filter } = s;
  const q = trx('usage_records as u')
    .where({ 'u.tenant_id': actor.tenantId, 'u.customer_id': customerId, 'u.product': product })
    .whereRaw('u.occurred_at >= (?::date)::timestamp at time zone ?', [filter.from, actor.timeZone])
    .whereRaw('u.occurred_at < (?::date + 1)::timestamp at time zone ?', [filter.to, actor.timeZone])
    .whereExists(partnerCustomerIds(trx, actor).where('id', customerId))
    .whereExists(
      trx('customer_products')
        .where({ tenant_id: actor.tenantId, customer_id: customerId, product })
        .select(trx.raw('1')),
    );
  if (filter.direction) q.where('u.direction', filter.direction);
  if (filter.status) q.where('u.status', filter.status);
  return q;
}

/** One page of the log, newest first, by keyset on (occurred_at, id): the same cost at any depth. */
export function usageLogQuery(
  trx: Trx,
  s: LogScope,
  page: { after: UsageCursor | null; size: number },
): Knex.QueryBuilder {
  const q = scopedUsage(trx, s)
    .select([
      ...PARTNER_USAGE_COLUMNS,
      trx.raw(`to_char(u.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`),
    ])
    .orderBy([
      { column: 'u.occurred_at', order: 'desc' },
      { column: 'u.id', order: 'desc' },
    ])
    .limit(page.size + 1);
  // not a row comparison: on this descending index PostgreSQL would filter it row by row from the top;
  // the time bound starts the index scan at the cursor, and the id settles records of the same time
  if (page.after) {
    const { occurredAt, id } = page.after;
    q.whereRaw('u.occurred_at <= ?::timestamptz and (u.occurred_at < ?::timestamptz or u.id < ?::bigint)', [
      occurredAt,
      occurredAt,
      id,
    ]);
  }
  return q;
}

/**
 * The day-by-day volume and spend of the period, days in the viewer's time zone. Without a direction
 * or status filter it reads the hourly rollups (at most 24 rows a day, whatever the volume: a month
 * of a busy customer is millions of records); with one it must count the records themselves. A
 * rollup hour falls on the local day its start is in (exact for whole-hour offsets).
 */
export function dailyUsageQuery(trx: Trx, s: LogScope): Knex.QueryBuilder {
  const { actor, customerId, product, filter } = s;
  if (!filter.direction && !filter.status) {
    return trx('usage_hourly as h')
      .where({ 'h.tenant_id': actor.tenantId, 'h.customer_id': customerId, 'h.product': product })
      .whereRaw('h.hour >= (?::date)::timestamp at time zone ?', [filter.from, actor.timeZone])
      .whereRaw('h.hour < (?::date + 1)::timestamp at time zone ?', [filter.to, actor.timeZone])
      .whereExists(partnerCustomerIds(trx, actor).where('id', customerId))
      .whereExists(
        trx('customer_products')
          .where({ tenant_id: actor.tenantId, customer_id: customerId, product })
          .select(trx.raw('1')),
      )
      .select(
        trx.raw("to_char((h.hour at time zone ?)::date, 'YYYY-MM-DD') as day", [actor.timeZone]),
        trx.raw('sum(h.attempts + h.in_progress)::int as records'),
        trx.raw('coalesce(sum(h.charge_minor), 0)::bigint as spend'),
      )
      .groupByRaw('1')
      .havingRaw('sum(h.attempts + h.in_progress) > 0')
      .orderByRaw('1');
  }
  return scopedUsage(trx, s)
    .select(
      trx.raw("to_char((u.occurred_at at time zone ?)::date, 'YYYY-MM-DD') as day", [s.actor.timeZone]),
      trx.raw('count(*)::int as records'),
      trx.raw('coalesce(sum(u.price_minor), 0)::bigint as spend'),
    )
    .groupByRaw('1')
    .orderByRaw('1');
}

export type UsageLogPage = { rows: PartnerUsageRow[]; nextCursor: string | null };

/** A page of usage rows as the partner sees them, with the cursor of the next page. */
export function pageFrom(
  rows: UsageDbRow[],
  size: number,
  product: Product,
  timeZone: string,
  show: NumberDisplay = maskNumber,
): UsageLogPage {
  const shown = rows.slice(0, size);
  const last = shown[shown.length - 1];
  return {
    rows: shown.map((r) => shapeUsage(r, product, timeZone, show)),
    nextCursor: rows.length > size && last ? encodeUsageCursor({ occurredAt: last.at, id: String(last.id) }) : null,
  };
}

function checkProduct(customer: PartnerCustomer, product: string): Product {
  if (!isProduct(product) || !customer.products.includes(product)) throw new NotFoundError();
  return product;
}

/**
 * The statements of one page of the log, after the tenant setup: the customer (with its products),
 * then the records.
 */
export function usageLogStatements(
  db: Db,
  actor: Actor,
  customerId: string,
  product: Product,
  filter: UsageLogFilter,
): TenantStatement[] {
  const trx = builder(db);
  return [
    partnerCustomersQuery(trx, actor).where('c.id', customerId),
    usageLogQuery(trx, { actor, customerId, product, filter }, filter),
  ];
}

export type UsageLog = UsageLogPage & {
  customer: PartnerCustomer;
  product: Product;
  productLabel: string;
  filter: UsageLogFilter;
};

/**
 * One page of a customer's usage log of one product; 404 when the customer is not the partner's
 * or the product is not enabled for it. One round trip: the customer and the page together.
 */
export async function partnerUsageLog(
  db: Db,
  actor: Actor,
  customerId: string,
  product: string,
  filter: UsageLogFilter,
): Promise<UsageLog> {
  return (await readUsage(db, actor, customerId, product, filter, false)).log;
}

/**
 * partnerUsageLog and the period's daily volume and spend (partnerDailyUsage's), in the same one round trip:
 * what the whole page and a new filter show, the chart and the log's first page.
 */
export async function partnerUsageWithChart(
  db: Db,
  actor: Actor,
  customerId: string,
  product: string,
  filter: UsageLogFilter,
): Promise<{ log: UsageLog; days: DailyUsage[] }> {
  const { log, days } = await readUsage(db, actor, customerId, product, filter, true);
  return { log, days: days! };
}

async function readUsage(
  db: Db,
  actor: Actor,
  customerId: string,
  product: string,
  filter: UsageLogFilter,
  withChart: boolean,
): Promise<{ log: UsageLog; days: DailyUsage[] | null }> {
  authorize(actor, 'partner.customers.view');
  if (!UUID.test(customerId) || !isProduct(product)) throw new NotFoundError();
  const statements = usageLogStatements(db, actor, customerId, product, filter);
  if (withChart) statements.push(dailyUsageQuery(builder(db), { actor, customerId, product, filter }));
  const [customerRows, page, daily] = await queryInTenant(db, actor.tenantId, statements);
  const row = customerRows!.rows[0] as CustomerDbRow | undefined;
  if (!row) throw new NotFoundError();
  const customer = shapeCustomer(row);
  checkProduct(customer, product);
  const log = {
    customer,
    product,
    productLabel: PRODUCT_LABELS[product],
    filter,
    ...pageFrom(page!.rows as UsageDbRow[], filter.size, product, actor.timeZone),
  };
  return { log, days: daily ? dailyFrom(daily.rows as DailyDbRow[]) : null };
}

type DailyDbRow = { day: string; records: number; spend: number };

const dailyFrom = (rows: DailyDbRow[]): DailyUsage[] =>
  rows.map((r) => ({ day: r.day, records: Number(r.records), spendMinor: Number(r.spend) }));

/** The period's daily volume and spend, for the chart and its table; the same reach as the log. */
export async function partnerDailyUsage(
  db: Db,
  actor: Actor,
  customerId: string,
  product: Product,
  filter: UsageLogFilter,
): Promise<DailyUsage[]> {
  authorize(actor, 'partner.customers.view');
  const rows = await asActor(db, actor, (trx) => dailyUsageQuery(trx, { actor, customerId, product, filter }));
  return dailyFrom(rows as DailyDbRow[]);
}
