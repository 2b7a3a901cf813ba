import type { Db } from '../../db/index.js';
import type { Day } from './subscription-rules.js';

/** The daily job's side of deactivations: those whose day has come are applied, in every tenant. */

export const SCHEDULED_DEACTIVATION_LABEL = 'Scheduled deactivation';
const DUE_BATCH = 2000;

/**
 * Applies every pending deactivation whose day has come (effective_on <= today), in every tenant:
 * for the daily job. Set-based, in batches that skip rows someone else holds; running it again
 * finds nothing left to do. Returns how many assets it deactivated.
 */
export async function applyDueDeactivations(db: Db, today: Day): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await db.transaction(async (trx) => {
      // assets and requests are locked together, skipping any a person is changing right now
      const { rows } = await trx.raw<{ rows: { requests: number; n: number }[] }>(
        `with due as (
           select r.tenant_id, r.id as request_id, r.asset_id, r.effective_on,
                  a.customer_id, a.identifier, a.status, a.next_renewal_on, a.renewal_unconfirmed
             from asset_requests r join assets a on a.tenant_id = r.tenant_id and a.id = r.asset_id
            where r.state = 'pending' and r.kind = 'deactivation' and r.effective_on <= ?::date
            order by r.effective_on, r.tenant_id, r.id
            limit ? for update of r, a skip locked
         ), requests as (
           update asset_requests r
              set state = 'applied', decided_at = now(), decided_by = null, decided_by_label = ?
             from due where r.tenant_id = due.tenant_id and r.id = due.request_id
           returning r.id
         ), assets_done as (
           update assets a
              set status = 'deactivated', next_renewal_on = null, renewal_unconfirmed = false, updated_at = now()
             from due
            where a.tenant_id = due.tenant_id and a.id = due.asset_id and due.status = 'deactivation_pending'
           returning a.id
         ), logged as (
           insert into audit_log
                  (tenant_id, actor_user_id, actor_label, customer_id, entity_type, entity_id, action, before, after)
           select d.tenant_id, null, ?, d.customer_id, 'asset', d.asset_id::text, 'asset.deactivation_applied',
                  jsonb_build_object('identifier', d.identifier, 'status', d.status,
                                     'next_renewal_on', d.next_renewal_on,
                                     'renewal_unconfirmed', d.renewal_unconfirmed),
                  jsonb_build_object('identifier', d.identifier, 'status', 'deactivated', 'next_renewal_on', null,
                                     'renewal_unconfirmed', false, 'effective_on', d.effective_on)
             from due d where d.status = 'deactivation_pending'
           returning 1
         )
         select (select count(*) from requests)::int as requests, (select count(*) from assets_done)::int as n`,
        [today, DUE_BATCH, SCHEDULED_DEACTIVATION_LABEL, SCHEDULED_DEACTIVATION_LABEL],
      );
      return rows[0]!;
    });
    total += done.n;
    if (done.requests < DUE_BATCH) return total;
  }
}
