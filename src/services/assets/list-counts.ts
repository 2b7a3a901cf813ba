import type { Knex } from 'knex';
import type { Trx } from '../../db/index.js';
import { subtreeIds } from '../groups/index.js';
import { scopeAssetCounts, type Actor } from '../access/index.js';
import { ASSET_TABS, type AssetTab } from './list-rules.js';

/** The asset list's tab counts, summed from the asset_counts counters over the actor's reach. */

/** The list's tab of a status, as the generated column assets.tab has it. */
const TAB_OF_STATUS = `case when c.status in ('inactive', 'deactivated') then 'inactive'
  when c.status = 'activation_pending' then 'activation-pending'
  when c.status = 'deactivation_pending' then 'deactivation-pending' else 'active' end`;

/**
 * Tab counts from the counters the asset trigger keeps (asset_counts), summed over the actor's
 * scope: one row per tab and one for all, each with how many customers and groups it spans.
 */
export function tabCountsQuery(
  trx: Trx,
  actor: Actor,
  customerId?: string | null,
  groupId?: string | null,
): Knex.QueryBuilder {
  const rows = scopeAssetCounts(trx, actor, 'c')
    .where('c.n', '>', 0)
    .select(trx.raw(`${TAB_OF_STATUS} as tab`), 'c.customer_id', 'c.group_key', 'c.n');
  if (customerId) rows.where('c.customer_id', customerId);
  if (groupId) rows.whereRaw('c.group_key = any(array(?))', [subtreeIds(trx, actor.tenantId, groupId)]);
  return trx
    .from(rows.as('t'))
    .select(
      trx.raw(
        "coalesce(t.tab, 'all') as tab, sum(t.n)::bigint as n, count(distinct t.customer_id)::int as customers, " +
          'count(distinct t.group_key)::int as groups',
      ),
    )
    .groupByRaw('grouping sets ((t.tab), ())');
}

export type CountRow = { tab: AssetTab; n: number; customers: number; groups: number };
export type TabCounts = Record<AssetTab, number>;

/** The count rows as counts per tab, and how many customers and groups each tab spans. */
export function countsFrom(rows: CountRow[]): {
  counts: TabCounts;
  spans: Record<AssetTab, { customers: number; groups: number }>;
} {
  const counts = Object.fromEntries(ASSET_TABS.map((t) => [t, 0])) as TabCounts;
  const spans = Object.fromEntries(ASSET_TABS.map((t) => [t, { customers: 0, groups: 0 }])) as Record<
    AssetTab,
    { customers: number; groups: number }
  >;
  for (const r of rows) {
    counts[r.tab] = Number(r.n);
    spans[r.tab] = { customers: r.customers, groups: r.groups };
  }
  return { counts, spans };
}
