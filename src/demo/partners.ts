import type { Trx } from '../db/index.js';
import { demoId } from './data.js';
import type { Product } from '../services/billing/index.js';

/**
 * The partner view of the demo: Bluewave resells Northwind and Acme. Products are enabled per
 * customer (Northwind: SMS, voice and messaging apps, not its video sessions; Acme: SMS and voice;
 * Harbor: voice) and priced by lists that match the prices the seeded usage records carry (GBP:
 * 5p a started voice minute, 4p an SMS part, 10p an answered video session, 2p an app message).
 */
const PRICES: Record<Product, number> = { voice: 5, sms: 4, video: 10, messaging: 2 };
const PRODUCTS_OF: Record<string, Product[]> = {
  northwind: ['sms', 'voice', 'messaging'],
  acme: ['sms', 'voice'],
  harbor: ['voice'],
};

export async function seedDemoPartners(trx: Trx): Promise<void> {
  const t = demoId('tenant:demo');
  const customer = (key: string) => demoId(`customer:${key}`);
  await trx('customers')
    .where({ tenant_id: t })
    .whereIn('id', [customer('northwind'), customer('acme')])
    .update({ partner_id: demoId('partner:bluewave') });
  // credit to show, unless the billing side already set some
  for (const [key, debitLimit, balance] of [
    ['northwind', 50_000, -12_345],
    ['acme', 20_000, 3_500],
  ] as const) {
    await trx('customers')
      .where({ tenant_id: t, id: customer(key), balance_minor: 0, debit_limit_minor: 0 })
      .update({ debit_limit_minor: debitLimit, balance_minor: balance });
  }
  const products = Object.entries(PRODUCTS_OF).flatMap(([key, list]) =>
    list.map((product) => ({ tenant_id: t, customer_id: customer(key), product })),
  );
  await trx('customer_products').insert(products);
  // every product priced, enabled or not: records arrive for what the partner does not see too
  await trx('price_lists').insert(
    Object.keys(PRODUCTS_OF).flatMap((key) =>
      (Object.entries(PRICES) as [Product, number][]).map(([product, price]) => ({
        tenant_id: t,
        customer_id: customer(key),
        product,
        unit_price_minor: price,
        valid_from: '2020-01-01T00:00:00Z',
      })),
    ),
  );
}
