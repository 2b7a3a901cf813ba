import type { Trx } from '../db/index.js';
import { demoId } from './data.js';
import type { Day } from '../services/assets/index.js';

type GroupSeed = { key: string; customer: string; name: string; parent?: string };

const GROUPS: GroupSeed[] = [
  { key: 'trucks', customer: 'northwind', name: 'Trucks' },
  { key: 'trucks-north', customer: 'northwind', name: 'North', parent: 'trucks' },
  { key: 'trucks-south', customer: 'northwind', name: 'South', parent: 'trucks' },
  { key: 'vans', customer: 'northwind', name: 'Vans' },
  { key: 'trailers', customer: 'northwind', name: 'Trailers' },
  { key: 'depot', customer: 'northwind-south', name: 'Depot' },
  { key: 'field-kit', customer: 'acme', name: 'Field kit' },
];

/**
 * Demo groups and a few hundred assets in every status, plan and renewal state, dated around
 * `today` so the renewal column shows all four states whenever the demo is seeded.
 */
export async function seedDemoGroupsAndAssets(trx: Trx, today: Day): Promise<void> {
  const tenantId = demoId('tenant:demo');
  const paths = new Map<string, string>();
  for (const g of GROUPS) {
    const path = g.parent ? `${paths.get(g.parent)} / ${g.name}` : g.name;
    paths.set(g.key, path);
    await trx('groups').insert({
      tenant_id: tenantId,
      id: demoId(`group:${g.key}`),
      customer_id: demoId(`customer:${g.customer}`),
      parent_id: g.parent ? demoId(`group:${g.parent}`) : null,
      name: g.name,
      path,
      reference: g.key.toUpperCase(),
    });
  }
  for (const who of ['fleet@northwind.test', 'viewer@northwind.test']) {
    await trx('membership_groups').insert({
      tenant_id: tenantId,
      membership_id: demoId(`membership:${who}`),
      group_id: demoId('group:trucks'),
    });
  }

  // one set-based insert per customer: status, plan and dates follow from the row number
  const batches: {
    customer: string;
    groups: string[];
    count: number;
    prefix: string;
    label: string;
    lat: number;
    lon: number;
  }[] = [
    {
      customer: 'northwind',
      groups: ['trucks', 'trucks-north', 'trucks-south', 'vans', 'trailers'],
      count: 240,
      prefix: '3548',
      label: 'Unit',
      lat: 51.5,
      lon: -0.12,
    },
    {
      customer: 'northwind-south',
      groups: ['depot'],
      count: 30,
      prefix: '3549',
      label: 'Depot unit',
      lat: 50.9,
      lon: -1.4,
    },
    { customer: 'acme', groups: ['field-kit'], count: 40, prefix: '3550', label: 'Kit', lat: 53.48, lon: -2.24 },
  ];
  for (const b of batches) {
    const groupIds = b.groups.map((k) => demoId(`group:${k}`));
    const groupPaths = b.groups.map((k) => paths.get(k)!);
    await trx.raw(
      `
      with rows as (
        select i,
          (?::uuid[])[1 + i % ?] as group_id,
          (?::text[])[1 + i % ?] as group_path,
          case when i % 20 = 3 then 'activation_pending' when i % 20 = 7 then 'deactivation_pending'
               when i % 20 = 11 then 'inactive' when i % 20 = 13 then 'deactivated' else 'active' end as status,
          (array['monthly', 'quarterly', 'yearly'])[1 + i % 3] as plan
        from generate_series(1, ?) as i
      ), terms as (
        select *, case
            when plan = 'yearly' and i % 41 = 0 then ?::date - 20 -- renewed itself 20 days ago, unconfirmed
            when plan = 'yearly' then ?::date - ((i * 37) % 365)
            when plan = 'quarterly' then ?::date - ((i * 11) % 90)
            else date_trunc('month', ?::date)::date end as term_start
        from rows
      )
      insert into assets (tenant_id, customer_id, group_id, group_path, identifier, name, status, plan,
                          term_start, term_end, next_renewal_on, renewal_unconfirmed,
                          last_latitude, last_longitude, last_located_at)
      select ?, ?, group_id, group_path,
        ? || lpad(i::text, 11, '0'),
        ? || ' ' || lpad(i::text, 3, '0'),
        status, plan,
        case when status = 'activation_pending' or (status = 'inactive' and i % 2 = 1) then null else term_start end,
        case when status = 'activation_pending' or (status = 'inactive' and i % 2 = 1) then null
             else (term_start + (case plan when 'yearly' then interval '1 year'
                                           when 'quarterly' then interval '3 months'
                                           else interval '1 month' end))::date - 1 end,
        case when plan = 'monthly' or status in ('activation_pending', 'inactive', 'deactivated') then null
             else (term_start
                   + (case plan when 'yearly' then interval '1 year' else interval '3 months' end))::date end,
        plan = 'yearly' and i % 41 = 0 and status = 'active',
        case when status in ('active', 'deactivation_pending') then ? + (i % 17) * 0.013 end,
        case when status in ('active', 'deactivation_pending') then ? + (i % 13) * 0.021 end,
        case when status in ('active', 'deactivation_pending') then ?::timestamptz - (i % 48) * interval '1 hour' end
      from terms`,
      [
        groupIds,
        groupIds.length,
        groupPaths,
        groupPaths.length,
        b.count,
        today,
        today,
        today,
        today,
        tenantId,
        demoId(`customer:${b.customer}`),
        b.prefix,
        b.label,
        b.lat,
        b.lon,
        `${today}T12:00:00Z`,
      ],
    );
  }

  // the requests behind the pending states: Northwind's by its company admin, Acme's taken by phone
  const northwindIds = [demoId('customer:northwind'), demoId('customer:northwind-south')];
  await trx.raw(
    `insert into asset_requests (tenant_id, asset_id, customer_id, kind, state, requested_by, requested_by_label,
                                 requested_at, effective_on)
     select a.tenant_id, a.id, a.customer_id,
       case a.status when 'activation_pending' then 'activation' else 'deactivation' end,
       'pending',
       case when a.customer_id = any(?::uuid[]) then ?::uuid end,
       case when a.customer_id = any(?::uuid[]) then 'Olivia Owner <owner@northwind.test>'
            else 'Alan Cole (by phone)' end,
       ?::timestamptz - interval '2 days',
       case when a.status = 'deactivation_pending' then
         case a.plan when 'monthly' then (date_trunc('month', ?::date) + interval '1 month - 1 day')::date
                     else a.term_end end end
     from assets a where a.tenant_id = ? and a.status in ('activation_pending', 'deactivation_pending')`,
    [northwindIds, demoId('user:owner@northwind.test'), northwindIds, `${today}T09:00:00Z`, today, tenantId],
  );
}
