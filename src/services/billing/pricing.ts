import type { Db, Trx } from '../../db/index.js';
import { NotFoundError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { formatMoney, minorPerMajor } from './money.js';
import { isProduct } from '../partners/usage-rules.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { addDays, daysBetween, type Day } from '../assets/subscription-rules.js';
import { repriceUsageRecords } from './usage-records.js';
import { PRODUCTS, type Product } from './usage-rules.js';
import { msg } from '../platform/index.js';

/**
 * A customer's products and price lists, as tenant admins set them: which products are enabled
 * (what a partner sees of the customer), and per product a unit price valid over whole UTC days
 * (billing days are UTC, like the call summaries). insertUsageRecords prices arriving records
 * from these lists; after a correction, repriceCustomerUsage prices a period again.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const isDay = (v: string) =>
  DAY.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);
const utcStart = (day: Day) => new Date(`${day}T00:00:00Z`);

/** What each product's unit price is a price of. */
export const PRICE_UNIT_LABELS: Record<Product, string> = {
  sms: 'per SMS part',
  voice: 'per started minute',
  video: 'per answered session',
  messaging: 'per message',
};

export type PriceList = {
  id: string;
  product: Product;
  unitPriceMinor: number;
  unitPriceLabel: string;
  validFrom: Day;
  validUntil: Day | null;
};
export type CustomerPricing = {
  customer: { id: string; title: string; currency: string };
  products: Product[];
  priceLists: PriceList[];
};

async function findCustomer(trx: Trx, actor: Actor, customerId: string) {
  if (!UUID.test(customerId)) throw new NotFoundError();
  const c = await trx('customers')
    .where({ tenant_id: actor.tenantId, id: customerId })
    .first<{ id: string; title: string; currency: string } | undefined>('id', 'title', 'currency');
  if (!c) throw new NotFoundError();
  return c;
}

export async function getCustomerPricing(db: Db, actor: Actor, customerId: string): Promise<CustomerPricing> {
  authorize(actor, 'customer.pricing');
  return asActor(db, actor, async (trx) => {
    const customer = await findCustomer(trx, actor, customerId);
    const enabled = (await trx('customer_products')
      .where({ tenant_id: actor.tenantId, customer_id: customer.id })
      .pluck('product')) as string[];
    const lists = await trx('price_lists')
      .where({ tenant_id: actor.tenantId, customer_id: customer.id })
      .orderBy([{ column: 'product' }, { column: 'valid_from', order: 'desc' }, { column: 'id', order: 'desc' }])
      .select<
        { id: number; product: Product; unit_price_minor: number; valid_from: string; valid_until: string | null }[]
      >(
        'id',
        'product',
        'unit_price_minor',
        trx.raw(`to_char(valid_from at time zone 'UTC', 'YYYY-MM-DD') as valid_from`),
        // stored as the exclusive end; shown as the last day included
        trx.raw(`to_char((valid_until at time zone 'UTC') - interval '1 day', 'YYYY-MM-DD') as valid_until`),
      );
    return {
      customer,
      products: PRODUCTS.filter((p) => enabled.includes(p)),
      priceLists: lists.map((l) => ({
        id: String(l.id),
        product: l.product,
        unitPriceMinor: Number(l.unit_price_minor),
        unitPriceLabel: formatMoney(l.unit_price_minor, customer.currency),
        validFrom: l.valid_from,
        validUntil: l.valid_until,
      })),
    };
  });
}

/** Switches the customer's products to exactly those chosen. */
export async function setCustomerProducts(
  db: Db,
  actor: Actor,
  customerId: string,
  chosen: string[],
): Promise<Product[]> {
  authorize(actor, 'customer.pricing');
  const products = PRODUCTS.filter((p) => chosen.includes(p));
  return asActor(db, actor, async (trx) => {
    const customer = await findCustomer(trx, actor, customerId);
    const before = (await trx('customer_products')
      .where({ tenant_id: actor.tenantId, customer_id: customer.id })
      .pluck('product')) as string[];
    await trx('customer_products')
      .where({ tenant_id: actor.tenantId, customer_id: customer.id })
      .whereNotIn('product', products)
      .del();
    if (products.length) {
      await trx('customer_products')
        .insert(products.map((product) => ({ tenant_id: actor.tenantId, customer_id: customer.id, product })))
        .onConflict(['tenant_id', 'customer_id', 'product'])
        .ignore();
    }
    await audit(trx, actor, {
      entityType: 'customer',
      entityId: customer.id,
      action: 'customer.products_changed',
      customerId: customer.id,
      before: { products: PRODUCTS.filter((p) => before.includes(p)) },
      after: { products },
    });
    return products;
  });
}

export type PriceListForm = { product: string; unitPrice: string; validFrom: string; validUntil: string };

/** Parses "0.05" in the currency's major unit into integer minor units, or null when it is not a price. */
export function parseUnitPrice(text: string, currency: string): number | null {
  const digits = Math.log10(minorPerMajor(currency));
  const m = (digits > 0 ? new RegExp(`^(\\d{1,9})(?:[.,](\\d{1,${digits}}))?$`) : /^(\d{1,9})()$/).exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * minorPerMajor(currency) + Number((m[2] ?? '').padEnd(digits, '0') || 0);
}

/** Adds a price list of one product: a unit price in force from one UTC day to another (open-ended without one). */
export async function addPriceList(db: Db, actor: Actor, customerId: string, form: PriceListForm): Promise<PriceList> {
  authorize(actor, 'customer.pricing');
  return asActor(db, actor, async (trx) => {
    const customer = await findCustomer(trx, actor, customerId);
    const fields: Record<string, string> = {};
    if (!isProduct(form.product)) fields.product = msg('Choose a product.');
    const price = parseUnitPrice(form.unitPrice, customer.currency);
    if (price === null) fields.unitPrice = `Enter a price in ${customer.currency}, like 0.05.`;
    if (!isDay(form.validFrom)) fields.validFrom = msg('Enter the first day the price applies.');
    const until = form.validUntil.trim();
    if (until && !isDay(until)) fields.validUntil = msg('Enter the last day the price applies, or leave it empty.');
    else if (until && isDay(form.validFrom) && daysBetween(form.validFrom, until) < 0)
      fields.validUntil = msg('The last day cannot come before the first.');
    if (Object.keys(fields).length) throw new ValidationError(fields);
    const [row] = await trx('price_lists')
      .insert({
        tenant_id: actor.tenantId,
        customer_id: customer.id,
        product: form.product,
        unit_price_minor: price,
        valid_from: utcStart(form.validFrom),
        valid_until: until ? utcStart(addDays(until, 1)) : null,
      })
      .returning<{ id: number }[]>('id');
    const list: PriceList = {
      id: String(row!.id),
      product: form.product as Product,
      unitPriceMinor: price!,
      unitPriceLabel: formatMoney(price!, customer.currency),
      validFrom: form.validFrom,
      validUntil: until || null,
    };
    await audit(trx, actor, {
      entityType: 'customer',
      entityId: customer.id,
      action: 'customer.price_list_added',
      customerId: customer.id,
      after: list,
    });
    return list;
  });
}

export type RepriceForm = { product: string; from: string; to: string };

/** Prices the customer's records of one product again over whole UTC days, from the lists as they are now. */
export async function repriceCustomerUsage(
  db: Db,
  actor: Actor,
  customerId: string,
  form: RepriceForm,
): Promise<{ changed: number; product: Product }> {
  authorize(actor, 'customer.pricing');
  return asActor(db, actor, async (trx) => {
    const customer = await findCustomer(trx, actor, customerId);
    const fields: Record<string, string> = {};
    if (!isProduct(form.product)) fields.repriceProduct = msg('Choose a product.');
    if (!isDay(form.from)) fields.repriceFrom = msg('Enter the first day to price again.');
    if (!isDay(form.to)) fields.repriceTo = msg('Enter the last day to price again.');
    else if (isDay(form.from) && daysBetween(form.from, form.to) < 0)
      fields.repriceTo = msg('The last day cannot come before the first.');
    if (Object.keys(fields).length) throw new ValidationError(fields);
    const product = form.product as Product;
    const changed = await repriceUsageRecords(
      trx,
      actor.tenantId,
      customer.id,
      product,
      utcStart(form.from),
      utcStart(addDays(form.to, 1)),
    );
    await audit(trx, actor, {
      entityType: 'customer',
      entityId: customer.id,
      action: 'customer.usage_repriced',
      customerId: customer.id,
      after: { product, from: form.from, to: form.to, changed },
    });
    return { changed, product };
  });
}
