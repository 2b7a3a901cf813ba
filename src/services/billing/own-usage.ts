import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import { csvLine } from '../platform/csv.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize, customerIdsInReach } from '../access/index.js';
import { PRODUCT_LABELS, PRODUCTS, type Product } from './usage-rules.js';
import {
  isProduct,
  pageFrom,
  PARTNER_USAGE_COLUMNS,
  usageCsvHeadings,
  usageCsvLine,
  type DailyUsage,
  type UsageCursor,
  type UsageDbRow,
  type UsageLogFilter,
  type UsageLogPage,
} from '../partners/index.js';
import { english, type Translator } from '../platform/index.js';

/**
 * A company admin's own usage records (/usage): one product of their customer (or of an inner
 * customer they reach), in the partner log's list state, rows, chart, CSV and templates, with the
 * numbers in full (it is their own data) and still never the contact name or message content (the
 * partner log's columns). Only the reach differs from the partner view: the customers of the
 * actor's reach (customerIdsInReach), in the statement itself, so no parameter reaches another's.
 */

export type OwnUsageCustomer = { id: string; title: string; account_id: string; currency: string };
export type OwnUsageLog = UsageLogPage & {
  customer: OwnUsageCustomer;
  customers: OwnUsageCustomer[];
  product: Product;
  productLabel: string;
  filter: UsageLogFilter;
};

const CSV_BATCH = 5000;
const inFull = (n: string) => n;

/** The product asked for (the first one when none is), or 404 for one that is not a product. */
export function ownUsageProduct(raw: unknown): Product {
  const p = Array.isArray(raw) ? raw[0] : raw;
  if (p === undefined || p === '') return PRODUCTS[0];
  if (!isProduct(p)) throw new NotFoundError();
  return p;
}

/** The customers the actor reaches, and the one asked for (their own when none is); 404 outside the reach. */
async function chooseCustomer(trx: Trx, actor: Actor, customerId: unknown) {
  const customers: OwnUsageCustomer[] = await trx('customers')
    .where('tenant_id', actor.tenantId)
    .whereIn('id', customerIdsInReach(trx, actor))
    .orderByRaw('parent_id is not null, lower(title)')
    .select('id', 'title', 'account_id', 'currency');
  const asked = Array.isArray(customerId) ? customerId[0] : customerId;
  const wanted = asked === undefined || asked === '' ? actor.customerId : isUuid(String(asked)) ? String(asked) : null;
  const customer = customers.find((c) => c.id === wanted);
  if (!customer) throw new NotFoundError();
  return { customer, customers };
}

type Scope = { actor: Actor; customerId: string; product: Product; filter: UsageLogFilter };

/** The records of the period and filters, of a customer in the actor's reach only. */
function ownRecords(trx: Trx, s: Scope): Knex.QueryBuilder {
  const q = trx('usage_records as u')
    .where({ 'u.tenant_id': s.actor.tenantId, 'u.customer_id': s.customerId, 'u.product': s.product })
    .whereIn('u.customer_id', customerIdsInReach(trx, s.actor))
    .whereRaw('u.occurred_at >= (?::date)::timestamp at time zone ?', [s.filter.from, s.actor.timeZone])
    .whereRaw('u.occurred_at < (?::date + 1)::timestamp at time zone ?', [s.filter.to, s.actor.timeZone]);
  if (s.filter.direction) q.where('u.direction', s.filter.direction);
  if (s.filter.status) q.where('u.status', s.filter.status);
  return q;
}

/** One keyset page, newest first, on usage_records_customer_idx (the partner log's order and cursor). */
function ownPage(trx: Trx, s: Scope, after: UsageCursor | null, size: number) {
  const q = ownRecords(trx, s)
    .select([
      ...PARTNER_USAGE_COLUMNS,
      trx.raw(`to_char(u.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at`),
    ])
    .orderBy([
      { column: 'u.occurred_at', order: 'desc' },
      { column: 'u.id', order: 'desc' },
    ])
    .limit(size + 1);
  if (after)
    q.whereRaw('u.occurred_at <= ?::timestamptz and (u.occurred_at < ?::timestamptz or u.id < ?::bigint)', [
      after.occurredAt,
      after.occurredAt,
      after.id,
    ]);
  return q as unknown as Promise<UsageDbRow[]>;
}

/** A page of the actor's own usage of one product. */
export async function ownUsageLog(
  db: Db,
  actor: Actor,
  input: { customerId?: unknown; product: Product; filter: UsageLogFilter },
): Promise<OwnUsageLog> {
  authorize(actor, 'usage.view_own');
  return asActor(db, actor, async (trx) => {
    const { customer, customers } = await chooseCustomer(trx, actor, input.customerId);
    const { product, filter } = input;
    const rows = await ownPage(trx, { actor, customerId: customer.id, product, filter }, filter.after, filter.size);
    return {
      customer,
      customers,
      product,
      productLabel: PRODUCT_LABELS[product],
      filter,
      ...pageFrom(rows, filter.size, product, actor.timeZone, inFull),
    };
  });
}

/** The period's records and spend per day (viewer's days), for the chart: the same figures as the partner's. */
export async function ownDailyUsage(
  db: Db,
  actor: Actor,
  customerId: string,
  product: Product,
  filter: UsageLogFilter,
): Promise<DailyUsage[]> {
  authorize(actor, 'usage.view_own');
  const rows = await asActor(db, actor, (trx) =>
    // without a direction or status, the hourly rollups (24 rows a day, whatever the volume), as the partner chart
    !filter.direction && !filter.status
      ? trx('usage_hourly as h')
          .where({ 'h.tenant_id': actor.tenantId, 'h.customer_id': customerId, 'h.product': product })
          .whereIn('h.customer_id', customerIdsInReach(trx, actor))
          .whereRaw('h.hour >= (?::date)::timestamp at time zone ?', [filter.from, actor.timeZone])
          .whereRaw('h.hour < (?::date + 1)::timestamp at time zone ?', [filter.to, actor.timeZone])
          .select(
            trx.raw("to_char((h.hour at time zone ?)::date, 'YYYY-MM-DD') as day", [actor.timeZone]),
            trx.raw('sum(h.attempts + h.in_progress)::int as records'),
            trx.raw('coalesce(sum(h.charge_minor), 0)::bigint as spend'),
          )
          .groupByRaw('1')
          .orderByRaw('1')
      : ownRecords(trx, { actor, customerId, product, filter })
          .select(
            trx.raw("to_char((u.occurred_at at time zone ?)::date, 'YYYY-MM-DD') as day", [actor.timeZone]),
            trx.raw('count(*)::int as records'),
            trx.raw("coalesce(sum(u.price_minor) filter (where u.status <> 'in_progress'), 0)::bigint as spend"),
          )
          .groupByRaw('1')
          .orderByRaw('1'),
  );
  return (rows as { day: string; records: number; spend: number }[]).map((r) => ({
    day: r.day,
    records: Number(r.records),
    spendMinor: Number(r.spend),
  }));
}

/**
 * The whole filtered log as CSV, in keyset batches (no connection held while the person reads),
 * with the partner CSV's columns and lines; 404 before any header when the customer is not theirs.
 */
export async function streamOwnUsageCsv(
  db: Db,
  actor: Actor,
  input: { customerId?: unknown; product: Product; filter: UsageLogFilter },
  tr: Translator = english,
): Promise<{ filename: string; stream: Readable }> {
  const filter = { ...input.filter, after: null, size: CSV_BATCH };
  const first = await ownUsageLog(db, actor, { ...input, filter });
  const { customer, product } = first;
  async function* lines() {
    yield csvLine(usageCsvHeadings(actor.timeZone, customer.currency, tr));
    let page: UsageLogPage = first;
    for (;;) {
      yield page.rows.map((r) => usageCsvLine(r, actor.timeZone, tr)).join('');
      const last = page.rows[page.rows.length - 1];
      if (!page.nextCursor || !last) return;
      const after = { occurredAt: last.occurredAt, id: last.id };
      const rows = await asActor(db, actor, (trx) =>
        ownPage(trx, { actor, customerId: customer.id, product, filter }, after, CSV_BATCH),
      );
      page = pageFrom(rows, CSV_BATCH, product, actor.timeZone, inFull);
    }
  }
  return {
    filename: `usage-${customer.account_id}-${product}-${filter.from}-to-${filter.to}.csv`,
    stream: Readable.from(lines()),
  };
}
