import type { Db, Trx } from '../../db/index.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { AUTO_RENEWAL_LABEL } from './renewals.js';
import { SCHEDULED_DEACTIVATION_LABEL } from './due-deactivations.js';

/**
 * What the scheduled jobs did for one tenant, for its admins' read-only Jobs page: the latest
 * automatic renewals, deactivations that took effect and renewal reminders. The jobs themselves
 * belong to the deployment (its operator runs and watches them); a tenant sees only its own part,
 * read through its row-level security and filtered by tenant, and never a job's raw errors.
 */

export const JOB_EFFECTS_SHOWN = 20;

export type AssetEffect = { at: Date; identifier: string; customerTitle: string | null };
export type ReminderEffect = { sentAt: Date; name: string; email: string; assets: number };
export type TenantJobEffects = {
  renewals: AssetEffect[];
  deactivations: AssetEffect[];
  reminders: ReminderEffect[];
};

/** The latest audit entries a job wrote for the tenant's assets (they name no person: the partial index). */
async function assetEffects(trx: Trx, actor: Actor, action: string, label: string): Promise<AssetEffect[]> {
  const rows: { at: Date; identifier: string | null; title: string | null }[] = await trx('audit_log as l')
    .leftJoin('customers as c', function () {
      this.on('c.tenant_id', 'l.tenant_id').andOn('c.id', 'l.customer_id');
    })
    .where({ 'l.tenant_id': actor.tenantId, 'l.action': action, 'l.actor_label': label })
    .whereNull('l.actor_user_id')
    .orderBy('l.id', 'desc')
    .limit(JOB_EFFECTS_SHOWN)
    .select('l.at', trx.raw("l.after->>'identifier' as identifier"), 'c.title');
  return rows.map((r) => ({ at: r.at, identifier: r.identifier ?? '', customerTitle: r.title }));
}

export async function tenantJobEffects(db: Db, actor: Actor): Promise<TenantJobEffects> {
  authorize(actor, 'jobs.view');
  return asActor(db, actor, async (trx) => {
    const renewals = await assetEffects(trx, actor, 'asset.renewed_automatically', AUTO_RENEWAL_LABEL);
    const deactivations = await assetEffects(trx, actor, 'asset.deactivation_applied', SCHEDULED_DEACTIVATION_LABEL);
    // one reminder mail is one person's rows of one run (they share sent_at): the latest mails are found
    // by stepping down the (tenant, sent_at, user) index one mail at a time, whatever the size of a run
    const { rows: reminders } = await trx.raw<{
      rows: { sent_at: Date; name: string; email: string; assets: number }[];
    }>(
      `with recursive mails (sent_at, user_id, n) as (
         (select sent_at, user_id, 1 from renewal_reminders_sent
           where tenant_id = :tenant order by sent_at desc, user_id desc limit 1)
         union all
         (select s.sent_at, s.user_id, m.n + 1 from mails m
            cross join lateral (
              select sent_at, user_id from renewal_reminders_sent
               where tenant_id = :tenant and (sent_at, user_id) < (m.sent_at, m.user_id)
               order by sent_at desc, user_id desc limit 1) s
           where m.n < :limit)
       )
       select m.sent_at, u.name, u.email,
              (select count(*)::int from renewal_reminders_sent c
                where c.tenant_id = :tenant and c.sent_at = m.sent_at and c.user_id = m.user_id) as assets
         from mails m join users u on u.id = m.user_id
        order by m.sent_at desc, m.user_id desc`,
      { tenant: actor.tenantId, limit: JOB_EFFECTS_SHOWN },
    );
    return {
      renewals,
      deactivations,
      reminders: reminders.map((r) => ({ sentAt: r.sent_at, name: r.name, email: r.email, assets: r.assets })),
    };
  });
}
