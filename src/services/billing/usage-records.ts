import type { Trx } from '../../db/index.js';
import type { Direction, Product, UsageStatus } from './usage-rules.js';
import { noticeOverLimit } from './over-limit.js';

/**
 * Usage records: the one table of metered usage. Everything that writes them (the ingestion API,
 * CSV import, the demo, the benchmark generator) goes through insertUsageRecords, so the rules of
 * arrival (currency, pricing) live in one place. The database charges prepaid customers for them in the
 * same statement (the usage_charges triggers: one ledger movement per customer and statement), and
 * the billing contacts of an account that went over its limit hear of it (noticeOverLimit).
 */

export type NewUsageRecord = {
  customerId: string;
  assetId?: string | null;
  product: Product;
  occurredAt: Date | string;
  direction: Direction;
  status: UsageStatus;
  fromNumber: string;
  toNumber: string;
  durationSeconds?: number;
  units?: number;
  /** the price when the sender already knows it; otherwise the customer's price list in force at occurredAt sets it */
  priceMinor?: number;
  contactName?: string | null;
  content?: string | null;
};

/** The units a record is billed for, in SQL over a usage_records row `u` (mirrors billableUnits). */
const BILLABLE_UNITS_SQL = `case u.product
    when 'voice' then ceil(u.duration_seconds / 60.0)::bigint
    when 'video' then case when u.status = 'answered' then u.units else 0 end
    else u.units end`;

/**
 * How many units of its product's price a record costs: SMS parts, started minutes, answered sessions,
 * app messages.
 */
export function billableUnits(r: {
  product: Product;
  durationSeconds: number;
  units: number;
  status: UsageStatus;
}): number {
  if (r.product === 'voice') return Math.ceil(r.durationSeconds / 60);
  if (r.product === 'video') return r.status === 'answered' ? r.units : 0;
  return r.units;
}

/**
 * The unit price of the customer's price list in force at the record's time (lists may overlap
 * after a correction: the one that started latest wins), in SQL over a row `u`; null without one.
 */
const UNIT_PRICE_SQL = `(select p.unit_price_minor from price_lists p
    where p.tenant_id = u.tenant_id and p.customer_id = u.customer_id and p.product = u.product
      and p.valid_from <= u.occurred_at and (p.valid_until is null or p.valid_until > u.occurred_at)
    order by p.valid_from desc, p.id desc limit 1)`;

/**
 * Writes records in one statement whatever their number (a batch of 10,000 is one round trip):
 * the rows travel as one JSON parameter, each takes its customer's currency and, unless the sender
 * priced it, the customer's price in force at its time. Returns how many were written.
 */
export async function insertUsageRecords(trx: Trx, tenantId: string, records: NewUsageRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  const rows = records.map((r) => ({
    customer_id: r.customerId,
    asset_id: r.assetId ?? null,
    product: r.product,
    occurred_at: r.occurredAt instanceof Date ? r.occurredAt.toISOString() : r.occurredAt,
    direction: r.direction,
    status: r.status,
    from_number: r.fromNumber,
    to_number: r.toNumber,
    duration_seconds: r.durationSeconds ?? 0,
    units: r.units ?? 1,
    price_minor: r.priceMinor ?? null,
    contact_name: r.contactName ?? null,
    content: r.content ?? null,
  }));
  const result = await trx.raw(
    `
    insert into usage_records (tenant_id, customer_id, asset_id, product, occurred_at, direction, status,
      from_number, to_number, duration_seconds, units, price_minor, currency, contact_name, content)
    select u.tenant_id, u.customer_id, u.asset_id, u.product, u.occurred_at, u.direction, u.status,
      u.from_number, u.to_number, u.duration_seconds, u.units,
      coalesce(u.price_minor, ${BILLABLE_UNITS_SQL} * ${UNIT_PRICE_SQL}, 0), u.currency, u.contact_name, u.content
    from (
      select c.tenant_id, r.customer_id, r.asset_id, r.product, r.occurred_at, r.direction, r.status,
        r.from_number, r.to_number, r.duration_seconds, r.units, r.price_minor, c.currency, r.contact_name, r.content
      from jsonb_to_recordset(?::jsonb) as r(customer_id uuid, asset_id uuid, product text, occurred_at timestamptz,
        direction text, status text, from_number text, to_number text, duration_seconds int, units int,
        price_minor bigint, contact_name text, content text)
      join customers c on c.tenant_id = ? and c.id = r.customer_id
    ) as u
    `,
    [JSON.stringify(rows), tenantId],
  );
  await noticeOverLimit(trx, tenantId, [...new Set(records.map((r) => r.customerId))]);
  return (result as { rowCount: number }).rowCount;
}

/** Channels in use now: the customer's calls and video sessions still in progress. */
export async function channelsInUse(trx: Trx, tenantId: string, customerId: string): Promise<number> {
  const row = await trx('usage_records')
    .where({ tenant_id: tenantId, customer_id: customerId, status: 'in_progress' })
    .count<{ n: number }[]>({ n: '*' })
    .first();
  return Number(row?.n ?? 0);
}

/**
 * Prices a customer's records of one product again from its price lists, over [from, until): what a
 * staff member runs after correcting a price list. Records with no list in force go to 0. A prepaid
 * customer's balance moves by the difference (one 'usage' movement, posted by the database).
 * Returns how many records changed price.
 */
export async function repriceUsageRecords(
  trx: Trx,
  tenantId: string,
  customerId: string,
  product: Product,
  from: Date,
  until: Date,
): Promise<number> {
  const result = await trx.raw(
    `
    update usage_records u set price_minor = coalesce(${BILLABLE_UNITS_SQL} * ${UNIT_PRICE_SQL}, 0)
    where u.tenant_id = ? and u.customer_id = ? and u.product = ? and u.occurred_at >= ? and u.occurred_at < ?
      and u.price_minor is distinct from coalesce(${BILLABLE_UNITS_SQL} * ${UNIT_PRICE_SQL}, 0)
    `,
    [tenantId, customerId, product, from.toISOString(), until.toISOString()],
  );
  await noticeOverLimit(trx, tenantId, [customerId]);
  return (result as { rowCount: number }).rowCount;
}
