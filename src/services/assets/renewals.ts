import type { Db } from '../../db/index.js';
import type { Day } from './subscription-rules.js';

/**
 * The daily renewal of subscriptions, for every tenant:
 * - a yearly or quarterly term that has ended (term_end < today) on an active asset without a
 *   pending deactivation renews for one more term (start = old end + 1, as termFor counts terms)
 *   and is flagged renewal_unconfirmed until the customer confirms: the danger state;
 * - a monthly plan whose month has ended rolls over to the current month.
 *
 * Set-based and idempotent, in keyset batches that each commit on their own (short locks; a crash
 * keeps what was done; a rerun finds nothing left). The batches walk only what is due, tenant by
 * tenant: yearly and quarterly terms by (renewal day, id) up to today on assets_renewal_day_idx,
 * monthly plans by (term end, id) before today on assets_monthly_term_idx. (Walking every asset in
 * primary-key order reads the heap at random: 13 s for a million assets from a cold cache.)
 *
 * Each automatic renewal writes its own audit entry in the same statement: it is a contract event
 * the customer must confirm, and the asset's history should say when it happened. A monthly
 * rollover writes none: it changes no contract (a monthly term is the calendar month by
 * definition) and would add a third of all assets to the log every month.
 */

export const RENEWAL_BATCH = 5000;
export const AUTO_RENEWAL_LABEL = 'Automatic renewal';
const NIL = '00000000-0000-0000-0000-000000000000';
const BEFORE_ALL: Key = { day: '0001-01-01', id: NIL };
/** a term lapsed for longer than this many terms (jobs off for years) is caught up on later runs */
const MAX_CATCH_UP = 50;

type Key = { day: Day; id: string };

export type RenewalCounts = { renewed: number; rolled_over: number; batches: number };

/** The two walks: which index, which rows are due, and the key that orders them. */
const WALKS = {
  term: {
    rows: "a.next_renewal_on is not null and a.plan in ('yearly', 'quarterly')",
    key: 'a.next_renewal_on',
    due: 'a.next_renewal_on <= :today::date',
  },
  monthly: {
    rows: "a.plan = 'monthly' and a.status = 'active'",
    key: 'a.term_end',
    due: 'a.term_end < :today::date',
  },
} as const;
type Walk = (typeof WALKS)[keyof typeof WALKS];

/** The last key of the next batch after `after`, or null when fewer than `size` due rows remain (index only). */
async function batchEnd(db: Db, walk: Walk, tenant: string, after: Key, today: Day, size: number): Promise<Key | null> {
  const { rows } = await db.raw<{ rows: Key[] }>(
    `select ${walk.key} as day, a.id from assets a
      where a.tenant_id = :tenant and ${walk.rows}
        and (${walk.key}, a.id) > (:fromDay::date, :fromId::uuid) and ${walk.due}
      order by ${walk.key}, a.id offset :skip limit 1`,
    { tenant, fromDay: after.day, fromId: after.id, today, skip: size - 1 },
  );
  return rows[0] ?? null;
}

/**
 * One statement per batch: a single UPDATE whose WHERE is the batch's index range and the due
 * conditions, so the row is checked again as it is when locked (a person may have just asked for
 * its deactivation), and nothing joins back to the table. The before-image in the audit entry is
 * what the new term implies: the old term ended the day before the new one starts.
 */
const RENEW = (which: string) => `
  with renewed as (
    update assets a set
      term_start = case when a.plan = 'monthly' then date_trunc('month', :today::date)::date else a.term_end + 1 end,
      term_end = case when a.plan = 'monthly'
                      then (date_trunc('month', :today::date) + interval '1 month - 1 day')::date
                      else ((a.term_end + 1)
                            + make_interval(months => case a.plan when 'yearly' then 12 else 3 end))::date - 1 end,
      next_renewal_on = case when a.plan = 'monthly' then null
                             else ((a.term_end + 1)
                                   + make_interval(months => case a.plan when 'yearly' then 12 else 3 end))::date end,
      renewal_unconfirmed = a.plan <> 'monthly' or a.renewal_unconfirmed,
      updated_at = now()
    where a.tenant_id = :tenant and ${which}
      and a.status = 'active' and a.term_end < :today::date
      and not exists (select 1 from asset_requests r
                       where r.tenant_id = a.tenant_id and r.asset_id = a.id
                         and r.kind = 'deactivation' and r.state = 'pending')
    returning a.tenant_id, a.id, a.customer_id, a.identifier, a.plan, a.term_start, a.term_end, a.next_renewal_on
  ), logged as (
    insert into audit_log (tenant_id, actor_user_id, actor_label, customer_id, entity_type, entity_id, action,
                           before, after)
    select r.tenant_id, null, :label, r.customer_id, 'asset', r.id::text, 'asset.renewed_automatically',
           jsonb_build_object('identifier', r.identifier, 'term_end', r.term_start - 1,
                              'next_renewal_on', r.term_start),
           jsonb_build_object('identifier', r.identifier, 'term_start', r.term_start, 'term_end', r.term_end,
                              'next_renewal_on', r.next_renewal_on, 'renewal_unconfirmed', true)
      from renewed r where r.plan <> 'monthly'
    returning 1
  )
  select (count(*) filter (where plan <> 'monthly'))::int as renewed,
         (count(*) filter (where plan = 'monthly'))::int as rolled_over,
         coalesce(array_agg(id) filter (where term_end < :today::date), '{}') as still_due
    from renewed`;

type BatchResult = { renewed: number; rolled_over: number; still_due: string[] };

async function renewBatch(
  db: Db,
  walk: Walk,
  tenant: string,
  from: Key,
  to: Key | null,
  today: Day,
): Promise<Omit<BatchResult, 'still_due'>> {
  const upTo = to ? `(${walk.key}, a.id) <= (:toDay::date, :toId::uuid)` : walk.due;
  const range = `${walk.rows} and (${walk.key}, a.id) > (:fromDay::date, :fromId::uuid) and ${upTo}`;
  const bindings = {
    tenant,
    fromDay: from.day,
    fromId: from.id,
    toDay: to?.day ?? from.day,
    toId: to?.id ?? NIL,
    today,
    label: AUTO_RENEWAL_LABEL,
  };
  return db.transaction(async (trx) => {
    const first = (await trx.raw<{ rows: BatchResult[] }>(RENEW(range), bindings)).rows[0]!;
    // a term lapsed for more than one term (the job was off) renews term by term until it covers today
    let lapsed = first.still_due;
    for (let pass = 1; lapsed.length && pass < MAX_CATCH_UP; pass++) {
      lapsed = (await trx.raw<{ rows: BatchResult[] }>(RENEW('a.id = any(:ids::uuid[])'), { ...bindings, ids: lapsed }))
        .rows[0]!.still_due;
    }
    return { renewed: first.renewed, rolled_over: first.rolled_over };
  });
}

/** Renews and rolls over every subscription due on `today` (UTC day), in keyset batches. */
export async function renewDueSubscriptions(
  db: Db,
  today: Day,
  opts: { batchSize?: number } = {},
): Promise<RenewalCounts> {
  const size = opts.batchSize ?? RENEWAL_BATCH;
  const counts: RenewalCounts = { renewed: 0, rolled_over: 0, batches: 0 };
  const tenants: string[] = await db('tenants').orderBy('id').pluck('id');
  for (const tenant of tenants) {
    for (const walk of [WALKS.term, WALKS.monthly]) {
      let from = BEFORE_ALL;
      for (;;) {
        const to = await batchEnd(db, walk, tenant, from, today, size);
        const done = await renewBatch(db, walk, tenant, from, to, today);
        counts.renewed += done.renewed;
        counts.rolled_over += done.rolled_over;
        counts.batches++;
        if (!to) break;
        from = to;
      }
    }
  }
  return counts;
}
