import type { Db } from '../../db/index.js';
import { addDays, type Day, RENEWAL_WARNING_DAYS } from '../assets/subscription-rules.js';
import { tabCounts, type TabCounts } from '../assets/index.js';
import { type Actor, asActor, can, scopeAssets } from '../access/index.js';

/** Counts above this read "1,000+": a badge never counts a customer's rows without bound. */
export const DUE_SOON_BOUND = 1000;

export type CustomerHome = {
  counts: TabCounts;
  dueSoon: { n: number; more: boolean };
  pendingRequests: number;
  canRequest: boolean;
};

/** The home page the actor's customer chose ('summary' when it has none). */
export async function homePageOf(db: Db, actor: Actor): Promise<string> {
  if (!actor.customerId) return 'summary';
  return asActor(db, actor, async (trx) => {
    const row = await trx('customers')
      .where({ tenant_id: actor.tenantId, id: actor.customerId })
      .first<{ home_page: string } | undefined>('home_page');
    return row?.home_page ?? 'summary';
  });
}

/** What a customer's people see first: their assets by state, renewals coming, requests open. */
export async function customerHome(db: Db, actor: Actor, today: Day): Promise<CustomerHome> {
  const counts = await tabCounts(db, actor);
  const { dueSoon, pendingRequests } = await asActor(db, actor, async (trx) => {
    const due = await trx
      .from(
        scopeAssets(trx, actor, 'a')
          .where('a.status', 'active')
          .whereNot('a.plan', 'monthly')
          .whereBetween('a.next_renewal_on', [today, addDays(today, RENEWAL_WARNING_DAYS)])
          .select(trx.raw('1'))
          .limit(DUE_SOON_BOUND + 1)
          .as('due'),
      )
      .count({ n: '*' })
      .first<{ n: number }>();
    const pending = await trx
      .from(
        trx('asset_requests as r')
          .whereIn('r.asset_id', scopeAssets(trx, actor, 'a').select('a.id'))
          .where({ 'r.tenant_id': actor.tenantId, 'r.state': 'pending' })
          .select(trx.raw('1'))
          .limit(DUE_SOON_BOUND + 1)
          .as('p'),
      )
      .count({ n: '*' })
      .first<{ n: number }>();
    return { dueSoon: Number(due?.n ?? 0), pendingRequests: Number(pending?.n ?? 0) };
  });
  return {
    counts,
    dueSoon: { n: Math.min(dueSoon, DUE_SOON_BOUND), more: dueSoon > DUE_SOON_BOUND },
    pendingRequests: Math.min(pendingRequests, DUE_SOON_BOUND),
    canRequest: can(actor, 'asset.request'),
  };
}
