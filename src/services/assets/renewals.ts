import type { Db } from '../../db/index.js';
import { addDays, type Day } from './subscription-rules.js';

/**
 * The daily renewal of subscriptions, for every tenant: a yearly or quarterly term that has ended
 * (term_end < today) on an active asset without a pending deactivation renews for one more term
 * (start = old end + 1, as termFor counts terms) and is flagged renewal_unconfirmed until the
 * customer confirms: the danger state.
 *
 * Monthly plans are not written at all: their term is the calendar month, derived when it is read
 * (subscription-rules' currentTerm), so the 1st of a month costs no more than any other day. The
 * run still counts the monthly terms that began since its last run in the tenant (monthly_rollovers
 * keeps the day it counted through), so the Jobs page reads as before and a rerun counts none.
 *
 * Set-based and idempotent, in keyset batches that each commit on their own (short locks; a crash
 * keeps what was done; a rerun finds nothing left). The batches walk only what is due, tenant by
 * tenant, by (renewal day, id) up to today on assets_renewal_day_idx. (Walking every asset in
 * primary-key order reads the heap at random: 13 s for a million assets from a cold cache.) A
 * renewal writes the term's four columns and updated_at, none of them searched: the trigram search
 * text has a table of its own (asset_search), so a renewal adds no entries to its index.
 *
 * Each automatic renewal writes its own audit entry in the same statement: it is a contract event
 * the customer must confirm, and the asset's history should say when it happened.
 */

export const RENEWAL_BATCH = 5000;
export const AUTO_RENEWAL_LABEL = 'Automatic renewal';
const NIL = '00000000-0000-0000-0000-000000000000';
const BEFORE_ALL: Key = { day: '0001-01-01', id: NIL };
/** a term lapsed for longer than this many terms (jobs off for years) is caught up on later runs */
const MAX_CATCH_UP = 50;

type Key = { day: Day; id: string };

export type RenewalCounts = { renewed: number; rolled_over: number; batches: number };

/** Yearly and quarterly terms, by (renewal day, id): the rows of assets_renewal_day_idx. */
const TERMS = "a.next_renewal_on is not null and a.plan in ('yearly', 'quarterly')";

/** The last key of the next batch after `after`, or null when fewer than `size` due rows remain (index only). */
async function batchEnd(db: Db, tenant: string, after: Key, today: Day, size: number): Promise<Key | null> {
  const { rows } = await db.raw<{ rows: Key[] }>(
    `select a.next_renewal_on as day, a.id from assets a
      where a.tenant_id = :tenant and ${TERMS}
        and (a.next_renewal_on, a.id) > (:fromDay::date, :fromId::uuid) and a.next_renewal_on <= :today::date
      order by a.next_renewal_on, a.id offset :skip limit 1`,
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
      term_start = a.term_end + 1,
      term_end = ((a.term_end + 1)
                  + make_interval(months => case a.plan when 'yearly' then 12 else 3 end))::date - 1,
      next_renewal_on = ((a.term_end + 1)
                         + make_interval(months => case a.plan when 'yearly' then 12 else 3 end))::date,
      renewal_unconfirmed = true,
      updated_at = now()
    where a.tenant_id = :tenant and ${which}
      and a.status = 'active' and a.term_end < :today::date
      and not exists (select 1 from asset_requests r
                       where r.tenant_id = a.tenant_id and r.asset_id = a.id
                         and r.kind = 'deactivation' and r.state = 'pending')
    returning a.tenant_id, a.id, a.customer_id, a.identifier, a.term_start, a.term_end, a.next_renewal_on
  ), logged as (
    insert into audit_log (tenant_id, actor_user_id, actor_label, customer_id, entity_type, entity_id, action,
                           before, after)
    select r.tenant_id, null, :label, r.customer_id, 'asset', r.id::text, 'asset.renewed_automatically',
           jsonb_build_object('identifier', r.identifier, 'term_end', r.term_start - 1,
                              'next_renewal_on', r.term_start),
           jsonb_build_object('identifier', r.identifier, 'term_start', r.term_start, 'term_end', r.term_end,
                              'next_renewal_on', r.next_renewal_on, 'renewal_unconfirmed', true)
      from renewed r
    returning 1
  )
  select count(*)::int as renewed,
         coalesce(array_agg(id) filter (where term_end < :today::date), '{}') as still_due
    from renewed`;

type BatchResult = { renewed: number; still_due: string[] };

async function renewBatch(db: Db, tenant: string, from: Key, to: Key | null, today: Day): Promise<number> {
  const upTo = to ? '(a.next_renewal_on, a.id) <= (:toDay::date, :toId::uuid)' : 'a.next_renewal_on <= :today::date';
  const range = `${TERMS} and (a.next_renewal_on, a.id) > (:fromDay::date, :fromId::uuid) and ${upTo}`;
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
    return first.renewed;
  });
}

/**
 * The monthly terms of the tenant's active plans that began after the day this count last went
 * through, up to today, recorded so that a rerun counts none: nothing is written to the plans
 * themselves. A stored term ending on day E gives way to the calendar month on E + 1 (currentTerm),
 * and every later 1st starts another, so between the last day counted L and today: the terms that
 * ended in [L, today) when both days are in one month, every stored term over before today when a
 * new month began. The count reads assets_monthly_term_idx only.
 */
async function countMonthlyRollovers(db: Db, tenant: string, today: Day): Promise<number> {
  return db.transaction(async (trx) => {
    const prior = await trx('monthly_rollovers')
      .where({ tenant_id: tenant })
      .forUpdate()
      .first<{ counted_through: Day } | undefined>('counted_through');
    const last = prior?.counted_through ?? addDays(today, -1);
    if (last >= today) return 0;
    await trx('monthly_rollovers')
      .insert({ tenant_id: tenant, counted_through: today })
      .onConflict('tenant_id')
      .merge(['counted_through']);
    const sameMonth = last.slice(0, 7) === today.slice(0, 7);
    const { rows: counted } = await trx.raw<{ rows: { n: number }[] }>(
      `select count(*)::int as n from assets a
        where a.tenant_id = :tenant and a.plan = 'monthly' and a.status = 'active'
          and a.term_end < :today::date ${sameMonth ? 'and a.term_end >= :last::date' : ''}`,
      { tenant, today, last },
    );
    return counted[0]!.n;
  });
}

/**
 * Renews every yearly and quarterly term due on `today` (UTC day), in keyset batches, and counts the
 * monthly terms that began since the last run (written nowhere but monthly_rollovers).
 */
export async function renewDueSubscriptions(
  db: Db,
  today: Day,
  opts: { batchSize?: number } = {},
): Promise<RenewalCounts> {
  const size = opts.batchSize ?? RENEWAL_BATCH;
  const counts: RenewalCounts = { renewed: 0, rolled_over: 0, batches: 0 };
  // a disabled tenant is paused: its terms wait, and the first run after it is enabled catches them up
  const tenants: string[] = await db('tenants').whereNull('disabled_at').orderBy('id').pluck('id');
  for (const tenant of tenants) {
    let from = BEFORE_ALL;
    for (;;) {
      const to = await batchEnd(db, tenant, from, today, size);
      counts.renewed += await renewBatch(db, tenant, from, to, today);
      counts.batches++;
      if (!to) break;
      from = to;
    }
    counts.rolled_over += await countMonthlyRollovers(db, tenant, today);
  }
  return counts;
}
