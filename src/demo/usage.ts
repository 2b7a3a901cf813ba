import type { Trx } from '../db/index.js';
import { demoId } from './data.js';
import type { Day } from '../services/assets/index.js';

/**
 * Three months of usage records up to `today` for the demo's telecom side: Northwind (voice and
 * SMS on its SIM-carrying units, so assets have call data records, plus video and messaging
 * apps) and Acme (SMS and voice). Set-based: one insert per customer; `scale` multiplies the count.
 * Contact names and message contents are made up and distinctive, so tests can look for them.
 */
export const DEMO_CONTACT_NAMES = ['Rosalind Quigley', 'Bartholomew Okafor', 'Ingrid Vasquez-Holm'];
export const DEMO_MESSAGE_TEXTS = [
  'Driver running 10 min late',
  'Gate code changed, call dispatch',
  'Delivery signed by reception',
];

export async function seedDemoUsage(trx: Trx, today: Day, scale = 1): Promise<void> {
  const tenantId = demoId('tenant:demo');
  await trx('customers')
    .where({ tenant_id: tenantId })
    .whereIn('id', [demoId('customer:northwind'), demoId('customer:acme')])
    // postpaid: their ledgers (demo/billing.ts) carry the months' usage charges as invoiced, so the
    // records seeded here do not charge them a second time
    .update({ currency: 'GBP', billing_model: 'postpaid' });
  const batches = [
    {
      customer: 'northwind',
      count: 3000 * scale,
      products: ['voice', 'sms', 'voice', 'sms', 'video', 'messaging'],
      numberBase: 7700900000,
    },
    { customer: 'acme', count: 800 * scale, products: ['voice', 'sms'], numberBase: 7700800000 },
  ];
  for (const b of batches) {
    await trx.raw(
      `
      with units as (
        select array_agg(id order by identifier) as ids from assets
        where tenant_id = :tenant and customer_id = :customer and status in ('active', 'deactivation_pending')
      ), rows as (
        select i,
          (:products::text[])[1 + i % cardinality(:products::text[])] as product,
          -- spread over 90 days up to the end of today (UTC), busier in working hours
          (:today::date + 1)::timestamptz - make_interval(secs => (i * 7919 % (90 * 86400))) as occurred_at
        from generate_series(1, :count) as i
      )
      insert into usage_records (tenant_id, customer_id, asset_id, product, occurred_at, direction, status,
        from_number, to_number, duration_seconds, units, price_minor, currency, contact_name, content)
      select :tenant, :customer,
        case when r.product in ('voice', 'sms') and cardinality(u.ids) > 0 then u.ids[1 + r.i % cardinality(u.ids)] end,
        r.product, r.occurred_at,
        case when r.i % 3 = 0 then 'inbound' else 'outbound' end,
        case
          when r.product in ('voice', 'video')
            then (array['answered', 'answered', 'answered', 'no_answer', 'busy', 'failed'])[1 + r.i % 6]
          else (array['delivered', 'delivered', 'delivered', 'failed', 'pending'])[1 + r.i % 5] end,
        '+44' || (:base::bigint + r.i % 400)::text,
        case when r.i % 7 = 0 then '+1212555' || lpad((r.i % 10000)::text, 4, '0')
             else '+44' || (:base::bigint + 500 + r.i % 900)::text end,
        case when r.product in ('voice', 'video') and r.i % 6 < 3 then 15 + (r.i * 37) % 900 else 0 end,
        case when r.product = 'sms' then 1 + r.i % 2 else 1 end,
        -- the demo's list prices in pence: 5 a started minute of voice, 4 an SMS part,
        -- 10 a video session, 2 an app message
        case r.product
          when 'voice' then 5 * ceil((case when r.i % 6 < 3 then 15 + (r.i * 37) % 900 else 0 end) / 60.0)::int
          when 'sms' then 4 * (1 + r.i % 2)
          when 'video' then case when r.i % 6 < 3 then 10 else 0 end
          else 2 end,
        'GBP',
        case when r.product in ('sms', 'messaging') then (:names::text[])[1 + r.i % 3] end,
        case when r.product in ('sms', 'messaging') then (:texts::text[])[1 + r.i % 3] end
      from rows r cross join units u
      `,
      {
        tenant: tenantId,
        customer: demoId(`customer:${b.customer}`),
        products: b.products,
        today,
        count: b.count,
        base: b.numberBase,
        names: DEMO_CONTACT_NAMES,
        texts: DEMO_MESSAGE_TEXTS,
      },
    );
  }
}
