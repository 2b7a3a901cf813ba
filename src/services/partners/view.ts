import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { queryInTenant } from '../../db/tenant.js';
import { NotFoundError } from '../../errors.js';
import { csvLine } from '../platform/csv.js';
import { formatDateTimeSeconds } from '../platform/time-format.js';
import { type Direction, type Product, PRODUCT_LABELS, PRODUCTS, type UsageStatus } from '../billing/usage-rules.js';
import { formatMoney, minorPerMajor } from '../billing/money.js';
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

/**
 * The partner view: a reseller's assigned customers and their usage logs, read only. Every row a
 * partner gets is built here, and built without the contact name or message content (never
 * selected) and with the numbers masked, so no route, fragment or export can carry them.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const builder = (db: Db) => db as unknown as Trx;
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export const PARTNER_CUSTOMER_PAGE_SIZE = 25;

export type PartnerCustomer = {
  id: string;
  title: string;
  accountId: string;
  products: Product[];
  currency: string;
  balanceMinor: number;
  debitLimitMinor: number;
  /** what the customer may still spend: debit limit plus balance */
  remainingCreditMinor: number;
  remainingCreditLabel: string;
};

type CustomerDbRow = {
  id: string;
  title: string;
  account_id: string;
  currency: string;
  balance_minor: number;
  debit_limit_minor: number;
  products: string[];
};

// trusted constants, so the statement can go as text in queryInTenant's one round trip
const PRODUCT_ORDER_SQL = `array[${PRODUCTS.map((p) => `'${p}'`).join(', ')}]`;

/** The customers of the partner as a query, each with its enabled products in the usual order. */
function partnerCustomersQuery(trx: Trx, actor: Actor): Knex.QueryBuilder {
  return trx('customers as c')
    .where('c.tenant_id', actor.tenantId)
    .whereIn('c.id', partnerCustomerIds(trx, actor))
    .select(
      'c.id',
      'c.title',
      'c.account_id',
      'c.currency',
      'c.balance_minor',
      'c.debit_limit_minor',
      trx.raw(`array(select cp.product from customer_products cp where cp.tenant_id = c.tenant_id and cp.customer_id = c.id
          order by array_position(${PRODUCT_ORDER_SQL}, cp.product::text)) as products`),
    );
}

function shapeCustomer(r: CustomerDbRow): PartnerCustomer {
  const remaining = Number(r.debit_limit_minor) + Number(r.balance_minor);
  return {
    id: r.id,
    title: r.title,
    accountId: r.account_id,
    products: r.products.filter(isProduct),
    currency: r.currency,
    balanceMinor: Number(r.balance_minor),
    debitLimitMinor: Number(r.debit_limit_minor),
    remainingCreditMinor: remaining,
    remainingCreditLabel: formatMoney(remaining, r.currency),
  };
}

export type PartnerCustomerList = { rows: PartnerCustomer[]; q: string; page: number; size: number; total: number };

/** "Manage customers": the partner's assigned customers, searched by name or account ID, a page at a time. */
export async function listPartnerCustomers(
  db: Db,
  actor: Actor,
  opts: { q?: string; page?: number },
): Promise<PartnerCustomerList> {
  authorize(actor, 'partner.customers.view');
  const q = (opts.q ?? '').trim().slice(0, 200);
  const page = Number.isInteger(opts.page) && opts.page! > 0 ? Math.min(opts.page!, 100_000) : 1;
  const size = PARTNER_CUSTOMER_PAGE_SIZE;
  return asActor(db, actor, async (trx) => {
    const search = (query: Knex.QueryBuilder) => {
      if (!q) return query;
      const like = `%${escapeLike(q)}%`;
      return query.where((w) => w.whereILike('c.title', like).orWhereILike('c.account_id', like));
    };
    const rows = (await search(partnerCustomersQuery(trx, actor))
      .orderByRaw('lower(c.title), c.id')
      .limit(size)
      .offset((page - 1) * size)) as CustomerDbRow[];
    const count = await search(
      trx('customers as c').where('c.tenant_id', actor.tenantId).whereIn('c.id', partnerCustomerIds(trx, actor)),
    ).count<{ n: number }[]>({ n: '*' });
    return { rows: rows.map(shapeCustomer), q, page, size, total: Number(count[0]?.n ?? 0) };
  });
}

/** One assigned customer; 404 for any other (another partner's, or not a customer at all). */
export async function getPartnerCustomer(db: Db, actor: Actor, customerId: string): Promise<PartnerCustomer> {
  authorize(actor, 'partner.customers.view');
  if (!UUID.test(customerId)) throw new NotFoundError();
  const row = await asActor(db, actor, (trx) =>
    partnerCustomersQuery(trx, actor).where('c.id', customerId).first<CustomerDbRow | undefined>(),
  );
  if (!row) throw new NotFoundError();
  return shapeCustomer(row);
}

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
  quantityLabel: string;
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
type UsageDbRow = {
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

function quantityLabel(product: Product, r: UsageDbRow): string {
  if (product === 'voice' || product === 'video') {
    const m = Math.floor(r.duration_seconds / 60);
    const s = r.duration_seconds % 60;
    return m ? `${m} min ${s} s` : `${s} s`;
  }
  return product === 'sms'
    ? `${r.units} part${r.units === 1 ? '' : 's'}`
    : `${r.units} message${r.units === 1 ? '' : 's'}`;
}

function shapeUsage(r: UsageDbRow, product: Product, timeZone: string): PartnerUsageRow {
  return {
    id: String(r.id),
    occurredAt: r.at,
    timeLabel: formatDateTimeSeconds(r.occurred_at, timeZone),
    direction: r.direction,
    directionLabel: DIRECTION_LABELS[r.direction] ?? r.direction,
    status: r.status,
    statusLabel: USAGE_STATUS_LABELS[r.status] ?? r.status,
    from: maskNumber(r.from_number),
    to: maskNumber(r.to_number),
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

function pageFrom(rows: UsageDbRow[], size: number, product: Product, timeZone: string): UsageLogPage {
  const shown = rows.slice(0, size);
  const last = shown[shown.length - 1];
  return {
    rows: shown.map((r) => shapeUsage(r, product, timeZone)),
    nextCursor: rows.length > size && last ? encodeUsageCursor({ occurredAt: last.at, id: String(last.id) }) : null,
  };
}

function checkProduct(customer: PartnerCustomer, product: string): Product {
  if (!isProduct(product) || !customer.products.includes(product)) throw new NotFoundError();
  return product;
}

/** The statements of one page of the log, after the tenant setup: the customer (with its products), then the records. */
export function usageLogStatements(
  db: Db,
  actor: Actor,
  customerId: string,
  product: Product,
  filter: UsageLogFilter,
): string[] {
  const trx = builder(db);
  return [
    partnerCustomersQuery(trx, actor).where('c.id', customerId).toQuery(),
    usageLogQuery(trx, { actor, customerId, product, filter }, filter).toQuery(),
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
  authorize(actor, 'partner.customers.view');
  if (!UUID.test(customerId) || !isProduct(product)) throw new NotFoundError();
  const [customerRows, page] = await queryInTenant(
    db,
    actor.tenantId,
    usageLogStatements(db, actor, customerId, product, filter),
  );
  const row = customerRows!.rows[0] as CustomerDbRow | undefined;
  if (!row) throw new NotFoundError();
  const customer = shapeCustomer(row);
  checkProduct(customer, product);
  return {
    customer,
    product,
    productLabel: PRODUCT_LABELS[product],
    filter,
    ...pageFrom(page!.rows as UsageDbRow[], filter.size, product, actor.timeZone),
  };
}

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
  return (rows as { day: string; records: number; spend: number }[]).map((r) => ({
    day: r.day,
    records: Number(r.records),
    spendMinor: Number(r.spend),
  }));
}

const CSV_BATCH = 5000;

export function usageCsvHeadings(timeZone: string, currency: string): string[] {
  return [`Time (${timeZone})`, 'Direction', 'Status', 'From', 'To', 'Duration (s)', 'Units', `Price (${currency})`];
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

/** A CSV line of a partner's row: only what the table shows, masked as it shows it; prices as numbers in major units. */
export function usageCsvLine(r: PartnerUsageRow, timeZone: string): string {
  return csvLine([
    csvTime(r.occurredAt, timeZone),
    r.directionLabel,
    r.statusLabel,
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
): Promise<{ filename: string; stream: Readable }> {
  const first = await partnerUsageLog(db, actor, customerId, product, { ...filter, after: null, size: CSV_BATCH });
  const { customer } = first;
  const p = first.product;
  const trx = builder(db);
  async function* lines() {
    yield csvLine(usageCsvHeadings(actor.timeZone, customer.currency));
    let page: UsageLogPage = first;
    for (;;) {
      yield page.rows.map((r) => usageCsvLine(r, actor.timeZone)).join('');
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
