import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import { type Product, PRODUCTS } from '../billing/usage-rules.js';
import { formatMoney } from '../billing/money.js';
import { isOverLimit } from '../billing/rules.js';
import { isProduct } from './usage-rules.js';
import { type Actor, asActor, authorize, partnerCustomerIds } from '../access/index.js';
import { cutText } from '../platform/text-rules.js';

/** A partner viewer's assigned customers, read only: the list they manage and one customer. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
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
  /** the account has used up its debit limit (isOverLimit): shown beside the remaining credit */
  overLimit: boolean;
};

/** A customers row as the partner view reads it. */
export type CustomerDbRow = {
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
export function partnerCustomersQuery(trx: Trx, actor: Actor): Knex.QueryBuilder {
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
      trx.raw(`array(select cp.product from customer_products cp
          where cp.tenant_id = c.tenant_id and cp.customer_id = c.id
          order by array_position(${PRODUCT_ORDER_SQL}, cp.product::text)) as products`),
    );
}

/** A customer as the partner view shows it, with the credit left to spend. */
export function shapeCustomer(r: CustomerDbRow): PartnerCustomer {
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
    overLimit: isOverLimit(r),
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
  const q = cutText((opts.q ?? '').trim(), 200);
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
