import type { Db, Trx } from '../db/index.js';
import { DEMO_PASSWORD, demoId, hasDemoData, seedDemo } from './data.js';
import { hashPassword } from '../services/people/index.js';
import { todayIn, type Day } from '../services/assets/index.js';

/** The customer that holds the big share of the bulk assets, and its company admin. */
export const BULK_FREIGHT = {
  account: 'BF-1',
  title: 'Bulk Freight',
  adminEmail: 'bulk@freight.test',
  adminName: 'Bea Bulk',
} as const;
/** Bulk identifiers: '3560' and an 11-digit sequence number, apart from the demo's 3548..3550 ranges. */
export const BULK_IDENTIFIER_PREFIX = '3560';
const GENERATED_CUSTOMERS = 300;
const BATCH = 100_000;
const TENANT = demoId('tenant:demo');
const NIL = '00000000-0000-0000-0000-000000000000';

const REGIONS = ['North', 'South', 'East', 'West', 'Central', 'Coast', 'Highlands', 'Border'];
const FLEETS = ['Trucks', 'Vans', 'Trailers'];
const FIRST_WORDS = [
  'Atlas',
  'Beacon',
  'Cedar',
  'Delta',
  'Ember',
  'Falcon',
  'Granite',
  'Harbour',
  'Iron',
  'Juniper',
  'Kestrel',
  'Lantern',
  'Meridian',
  'Nimbus',
  'Orchard',
  'Pioneer',
  'Quarry',
  'Ridge',
  'Summit',
  'Tidal',
];
const SECOND_WORDS = [
  'Haulage',
  'Logistics',
  'Transport',
  'Couriers',
  'Distribution',
  'Removals',
  'Fleet Services',
  'Freight',
  'Carriers',
  'Express',
  'Movers',
  'Supply',
  'Shipping',
  'Trucking',
  'Cargo',
];

export type BulkProgress = { done: number; total: number; seconds: number };
export type BulkResult = { assets: number; bulkFreight: number; seconds: number };

/**
 * The benchmark scale of DESIGN.md section 7: adds `assets` assets to the Demo tenant (seeding the
 * demo first when it is missing). Bulk Freight (BF-1) gets at least 100,000 of them (all of them
 * when fewer are asked for; 60 % of a larger run, so a list 500,000 rows deep exists for one
 * company admin), in a few dozen groups; the rest go to a few hundred generated customers, each
 * with a group and a sub-group. Every status, plan and renewal state occurs, as in the demo.
 * Running it again adds more assets with new identifiers.
 */
export async function seedBulkAssets(
  db: Db,
  opts: { assets: number; now?: Date; onProgress?: (p: BulkProgress) => void },
): Promise<BulkResult> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const total = Math.max(0, Math.floor(opts.assets));
  const today = todayIn('UTC', opts.now ?? new Date());
  if (!(await hasDemoData(db))) await seedDemo(db, opts.now ? { now: opts.now } : {});
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const bulkFreight = total <= 100_000 ? total : Math.max(100_000, Math.round(total * 0.6));

  await db.transaction(async (trx) => {
    // Trigger-maintained counters cost one upsert per row, on a handful of hot rows. Disabling the
    // trigger inside this transaction locks out other writers to assets until we commit, so the
    // counters rebuilt below from the table itself cannot miss a concurrent change; and a failure
    // rolls the disabling back with everything else.
    await trx.raw('alter table assets disable trigger asset_counts_track');
    const targets = await bulkTargets(trx, passwordHash);
    const first = await nextBulkNumber(trx);
    let done = 0;
    const step = async (count: number, placement: Placement) => {
      for (let from = 0; from < count; from += BATCH) {
        const n = Math.min(BATCH, count - from);
        const start = first + done;
        await trx.raw(assetInsert(placement), {
          ...placementBindings(placement, targets),
          start,
          end: start + n - 1,
          today,
          tenant: TENANT,
        });
        done += n;
        opts.onProgress?.({ done, total, seconds: seconds() });
      }
    };
    await step(bulkFreight, 'bulk-freight');
    await step(total - bulkFreight, 'generated');
    if (total > 0) await insertPendingRequests(trx, targets, first, first + total - 1, today);
    await rebuildAssetCounts(trx);
    await trx.raw('alter table assets enable trigger asset_counts_track');
  });
  // fresh statistics, so the planner sees a million rows rather than the demo's few hundred
  await db.raw('analyze assets, asset_requests, asset_counts');
  return { assets: total, bulkFreight, seconds: seconds() };
}

/** How many bulk assets the Demo tenant has (0 without the demo). */
export async function bulkAssetCount(db: Db): Promise<number> {
  const row = await db('assets')
    .where('tenant_id', TENANT)
    .where('identifier', '>=', BULK_IDENTIFIER_PREFIX)
    .where('identifier', '<', `${BULK_IDENTIFIER_PREFIX}~`)
    .count<{ n: number }[]>({ n: '*' });
  return Number(row[0]?.n ?? 0);
}

type Placement = 'bulk-freight' | 'generated';
type Targets = {
  bulkFreightId: string;
  adminId: string;
  /** Bulk Freight's groups and, last, the empty slot of assets in no group */
  bfGroupIds: (string | null)[];
  bfGroupPaths: string[];
  customerIds: string[];
  fleetIds: string[];
  reserveIds: string[];
};

/** Bulk Freight with its groups and admin, and the generated customers: made on the first run, found after. */
async function bulkTargets(trx: Trx, passwordHash: string): Promise<Targets> {
  const bulkFreightId = demoId('customer:bulk-freight');
  const adminId = demoId(`user:${BULK_FREIGHT.adminEmail}`);
  const exists = await trx('customers').where({ tenant_id: TENANT, id: bulkFreightId }).first('id');
  if (!exists) {
    await trx('customers').insert({
      tenant_id: TENANT,
      id: bulkFreightId,
      title: BULK_FREIGHT.title,
      account_id: BULK_FREIGHT.account,
      contact_name: 'Bo Freight',
      email: 'ops@freight.test',
      home_page: 'assets',
    });
    const groups: Record<string, unknown>[] = [];
    for (const region of REGIONS) {
      groups.push({
        tenant_id: TENANT,
        id: demoId(`group:bulk:${region}`),
        customer_id: bulkFreightId,
        parent_id: null,
        name: region,
        path: region,
        reference: `BF-${region.toUpperCase()}`,
      });
      for (const fleet of FLEETS) {
        groups.push({
          tenant_id: TENANT,
          id: demoId(`group:bulk:${region}:${fleet}`),
          customer_id: bulkFreightId,
          parent_id: demoId(`group:bulk:${region}`),
          name: fleet,
          path: `${region} / ${fleet}`,
          reference: `BF-${region.toUpperCase()}-${fleet.toUpperCase()}`,
        });
      }
    }
    await trx('groups').insert(groups);
    await trx('users').insert({
      id: adminId,
      email: BULK_FREIGHT.adminEmail,
      name: BULK_FREIGHT.adminName,
      password_hash: passwordHash,
      status: 'active',
      time_zone: 'Europe/London',
    });
    await trx('memberships').insert({
      tenant_id: TENANT,
      id: demoId(`membership:${BULK_FREIGHT.adminEmail}`),
      user_id: adminId,
      role: 'company_admin',
      customer_id: bulkFreightId,
    });

    await trx.raw(
      `insert into customers (tenant_id, title, account_id, contact_name, email, home_page)
       select :tenant,
         (:first::text[])[1 + (i - 1) % :firstCount] || ' '
           || (:second::text[])[1 + ((i - 1) / :firstCount) % :secondCount],
         'BG-' || lpad(i::text, 4, '0'), 'Fleet desk', 'fleet@bg-' || lpad(i::text, 4, '0') || '.test', 'assets'
       from generate_series(1, :count) as i`,
      {
        tenant: TENANT,
        first: FIRST_WORDS,
        firstCount: FIRST_WORDS.length,
        second: SECOND_WORDS,
        secondCount: SECOND_WORDS.length,
        count: GENERATED_CUSTOMERS,
      },
    );
    await trx.raw(
      `insert into groups (tenant_id, customer_id, name, path, reference)
       select tenant_id, id, 'Fleet', 'Fleet', account_id || '-FLEET'
       from customers where tenant_id = :tenant and account_id like 'BG-%'`,
      { tenant: TENANT },
    );
    await trx.raw(
      `insert into groups (tenant_id, customer_id, parent_id, name, path, reference)
       select tenant_id, customer_id, id, 'Reserve', 'Fleet / Reserve', reference || '-RESERVE'
       from groups where tenant_id = :tenant and path = 'Fleet' and reference like 'BG-%'`,
      { tenant: TENANT },
    );
  }
  const bfGroups = await trx('groups')
    .where({ tenant_id: TENANT, customer_id: bulkFreightId })
    .orderBy('path')
    .select<{ id: string; path: string }[]>('id', 'path');
  const generated = await trx('customers as c')
    .join('groups as f', function () {
      this.on('f.tenant_id', 'c.tenant_id').andOn('f.customer_id', 'c.id').andOnVal('f.path', 'Fleet');
    })
    .join('groups as r', function () {
      this.on('r.tenant_id', 'c.tenant_id').andOn('r.parent_id', 'f.id');
    })
    .where('c.tenant_id', TENANT)
    .whereLike('c.account_id', 'BG-%')
    .orderBy('c.account_id')
    .select<{ id: string; fleet: string; reserve: string }[]>('c.id', 'f.id as fleet', 'r.id as reserve');
  return {
    bulkFreightId,
    adminId,
    bfGroupIds: [...bfGroups.map((g) => g.id), null],
    bfGroupPaths: [...bfGroups.map((g) => g.path), ''],
    customerIds: generated.map((c) => c.id),
    fleetIds: generated.map((c) => c.fleet),
    reserveIds: generated.map((c) => c.reserve),
  };
}

/** The next free sequence number after the bulk identifiers already there (one backward index probe). */
async function nextBulkNumber(trx: Trx): Promise<number> {
  const row = await trx('assets')
    .where('tenant_id', TENANT)
    .where('identifier', '>=', BULK_IDENTIFIER_PREFIX)
    .where('identifier', '<', `${BULK_IDENTIFIER_PREFIX}~`)
    .orderBy('identifier', 'desc')
    .first<{ identifier: string } | undefined>('identifier');
  return row ? Number(row.identifier.slice(BULK_IDENTIFIER_PREFIX.length)) + 1 : 1;
}

/** Which customer and group row number `n` lands in. */
const PLACEMENTS: Record<Placement, string> = {
  // Bulk Freight: round the 32 groups and the no-group slot
  'bulk-freight': `:bulkFreight::uuid as customer_id,
      (:groupIds::uuid[])[1 + n % :slots] as group_id,
      (:groupPaths::text[])[1 + n % :slots] as group_path,
      (array['Truck', 'Van', 'Trailer', 'Reefer', 'Tanker'])[1 + n % 5] || ' ' || n as name`,
  // generated customers: skewed sizes (the first ones big, the last few small); a quarter of each in the sub-group
  generated: `(:customerIds::uuid[])[c] as customer_id,
      case when n % 97 = 0 then null
           when n % 4 = 0 then (:reserveIds::uuid[])[c]
           else (:fleetIds::uuid[])[c] end as group_id,
      case when n % 97 = 0 then '' when n % 4 = 0 then 'Fleet / Reserve' else 'Fleet' end as group_path,
      (array['Unit', 'Tracker', 'Sensor', 'Gateway'])[1 + n % 4] || ' ' || n as name`,
};

function placementBindings(p: Placement, t: Targets): Record<string, unknown> {
  return p === 'bulk-freight'
    ? {
        bulkFreight: t.bulkFreightId,
        groupIds: t.bfGroupIds,
        groupPaths: t.bfGroupPaths,
        slots: t.bfGroupIds.length,
        customers: 1,
      }
    : { customerIds: t.customerIds, reserveIds: t.reserveIds, fleetIds: t.fleetIds, customers: t.customerIds.length };
}

/** One set-based insert of rows start..end; the status, plan and terms follow the demo's pattern (demo-assets.ts). */
function assetInsert(p: Placement): string {
  return `
    with numbers as (
      select n, 1 + floor(:customers::int * power(((n * 7919) % 10007) / 10007.0, 1.6))::int as c
      from generate_series(:start::bigint, :end::bigint) as n
    ), rows as (
      select n, ${PLACEMENTS[p]},
        case when n % 20 = 3 then 'activation_pending' when n % 20 = 7 then 'deactivation_pending'
             when n % 20 = 11 then 'inactive' when n % 20 = 13 then 'deactivated' else 'active' end as status,
        (array['monthly', 'quarterly', 'yearly'])[1 + n % 3] as plan
      from numbers
    ), terms as (
      select *, case
          when plan = 'yearly' and n % 41 = 0 then :today::date - 20 -- renewed itself 20 days ago, unconfirmed
          when plan = 'yearly' then :today::date - ((n * 37) % 365)::int
          when plan = 'quarterly' then :today::date - ((n * 11) % 90)::int
          else date_trunc('month', :today::date)::date end as term_start
      from rows
    )
    insert into assets (tenant_id, customer_id, group_id, group_path, identifier, name, status, plan,
                        term_start, term_end, next_renewal_on, renewal_unconfirmed,
                        last_latitude, last_longitude, last_located_at)
    select :tenant, customer_id, group_id, group_path,
      '${BULK_IDENTIFIER_PREFIX}' || lpad(n::text, 11, '0'), name, status, plan,
      case when status = 'activation_pending' or (status = 'inactive' and n % 2 = 1) then null else term_start end,
      case when status = 'activation_pending' or (status = 'inactive' and n % 2 = 1) then null
           else (term_start + (case plan when 'yearly' then interval '1 year'
                                         when 'quarterly' then interval '3 months'
                                         else interval '1 month' end))::date - 1 end,
      case when plan = 'monthly' or status in ('activation_pending', 'inactive', 'deactivated') then null
           else (term_start + (case plan when 'yearly' then interval '1 year' else interval '3 months' end))::date end,
      plan = 'yearly' and n % 41 = 0 and status = 'active',
      case when status in ('active', 'deactivation_pending') then 51.0 + (n % 170) * 0.013 end,
      case when status in ('active', 'deactivation_pending') then -2.5 + (n % 130) * 0.021 end,
      case when status in ('active', 'deactivation_pending')
           then :today::timestamptz + interval '12 hours' - (n % 48) * interval '1 hour' end
    from terms`;
}

/** The open requests behind the pending states: Bulk Freight's by its company admin, the others' taken by phone. */
async function insertPendingRequests(trx: Trx, t: Targets, first: number, last: number, today: Day): Promise<void> {
  const id = (n: number) => `${BULK_IDENTIFIER_PREFIX}${String(n).padStart(11, '0')}`;
  await trx.raw(
    `insert into asset_requests (tenant_id, asset_id, customer_id, kind, state, requested_by, requested_by_label,
                                 requested_at, effective_on)
     select a.tenant_id, a.id, a.customer_id,
       case a.status when 'activation_pending' then 'activation' else 'deactivation' end,
       'pending',
       case when a.customer_id = :bulkFreight::uuid then :admin::uuid end,
       case when a.customer_id = :bulkFreight::uuid then :adminLabel else 'Fleet desk (by phone)' end,
       :today::timestamptz + interval '9 hours' - (1 + (hashtext(a.identifier) & 7)) * interval '1 day',
       case when a.status = 'deactivation_pending' then
         case a.plan when 'monthly' then (date_trunc('month', :today::date) + interval '1 month - 1 day')::date
                     else a.term_end end end
     from assets a
     where a.tenant_id = :tenant and a.identifier between :first and :last
       and a.status in ('activation_pending', 'deactivation_pending')`,
    {
      bulkFreight: t.bulkFreightId,
      admin: t.adminId,
      adminLabel: `${BULK_FREIGHT.adminName} <${BULK_FREIGHT.adminEmail}>`,
      today,
      tenant: TENANT,
      first: id(first),
      last: id(last),
    },
  );
}

/** The tab badges' counters, recounted for the whole tenant in one statement (the trigger was off). */
async function rebuildAssetCounts(trx: Trx): Promise<void> {
  await trx('asset_counts').where({ tenant_id: TENANT }).delete();
  await trx.raw(
    `insert into asset_counts (tenant_id, customer_id, group_key, status, n)
     select tenant_id, customer_id, coalesce(group_id, :nil::uuid), status, count(*)
     from assets where tenant_id = :tenant group by 1, 2, 3, 4`,
    { tenant: TENANT, nil: NIL },
  );
}
