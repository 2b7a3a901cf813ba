import type { Db, Trx } from '../../db/index.js';
import { enqueueMail, type MailLinks, unsubscribeHeaders } from '../mail/index.js';
import { reminderMail } from './reminder-mail.js';
import { isLocale, recipientLocale, translator } from '../platform/i18n.js';
import { addDays, RENEWAL_WARNING_DAYS, todayIn, type Day, type Plan } from './subscription-rules.js';

/**
 * Renewal reminders: for each active yearly or quarterly subscription renewing within 28 days (and
 * not awaiting confirmation of a renewal already made), one reminder a week, four in all, to the
 * customer's company admins (of the asset's customer or a customer it belongs to) and to the people
 * assigned to the asset's group or a group above it; active people who have not turned them off.
 * Each person gets one mail per run listing all their assets due.
 *
 * Week w (1 to 4) is due from 28, 21, 14 and 7 days before the renewal: the first run on or after
 * that day sends it, so a missed day still sends it, and a run that finds a later week due sends
 * only that one. A reminder is recorded in renewal_reminders_sent under (asset, renewal day, week,
 * person) in the SAME transaction as the mail that carries it, and only what that insert newly
 * recorded goes into the mail: a rerun, a crash mid-run or a second instance never sends one twice.
 *
 * Two phases: (1) keyset batches over each tenant's renewal window, in (renewal day, id) order on
 * assets_renewal_day_idx, find what is due for whom, set-based, into a scratch queue; (2) one short
 * transaction per person turns their queue rows into records and one mail. The queue is what lets
 * a person's assets, spread over every batch, arrive in one mail.
 */

export const REMINDER_BATCH = 5000;
const PEOPLE_BATCH = 500;

const NIL = '00000000-0000-0000-0000-000000000000';
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/**
 * One batch of one tenant: the subscriptions renewing in the window, in (renewal day, id) order
 * from the cursor, joined to their recipients. Recipients are worked out once per distinct
 * customer and group of the batch (a handful), then matched to the assets by hash.
 */
const FIND_DUE = `
  with recursive batch as materialized (
    select a.id, a.customer_id, a.group_id, a.status, a.plan, a.renewal_unconfirmed, a.next_renewal_on
      from assets a
     where a.tenant_id = :tenant and a.next_renewal_on is not null
       and (a.next_renewal_on, a.id) > (:fromDay::date, :fromId::uuid) /*upper bound*/
  ), due as materialized (
    select b.id, b.customer_id, b.group_id, b.next_renewal_on,
           (case when b.next_renewal_on - :today::date <= 7 then 4 when b.next_renewal_on - :today::date <= 14 then 3
                 when b.next_renewal_on - :today::date <= 21 then 2 else 1 end)::smallint as week
      from batch b
     where b.status = 'active' and b.plan in ('yearly', 'quarterly') and not b.renewal_unconfirmed
  ), customer_up (customer_id, ancestor_id) as (
    select distinct customer_id, customer_id from due
    union all
    select u.customer_id, p.parent_id
      from customer_up u join customers p on p.tenant_id = :tenant and p.id = u.ancestor_id
     where p.parent_id is not null
  ), group_up (group_id, ancestor_id) as (
    select distinct group_id, group_id from due where group_id is not null
    union all
    select u.group_id, p.parent_id
      from group_up u join groups p on p.tenant_id = :tenant and p.id = u.ancestor_id
     where p.parent_id is not null
  ), listening as materialized (
    -- people who get renewal reminders at all: active, and not turned off
    select u.id from users u
     where u.status = 'active'
       and not exists (select 1 from notification_settings s
                        where s.user_id = u.id and s.kind = 'renewal_reminders' and not s.enabled)
       and u.id in (select m.user_id from memberships m
                     where m.tenant_id = :tenant and m.role in ('company_admin', 'group_admin', 'group_supervisor'))
  ), customer_admins as materialized (
    -- a membership its customer disabled hears nothing more of that customer's assets
    select cu.customer_id, m.user_id, c.title::text as via_name
      from customer_up cu
      join memberships m on m.tenant_id = :tenant and m.customer_id = cu.ancestor_id and m.role = 'company_admin'
                         and m.disabled_at is null
      join customers c on c.tenant_id = :tenant and c.id = cu.ancestor_id
     where m.user_id in (select id from listening)
  ), group_members as materialized (
    select gu.group_id, m.user_id, g.path::text as via_name
      from group_up gu
      join membership_groups mg on mg.tenant_id = :tenant and mg.group_id = gu.ancestor_id
      join memberships m on m.tenant_id = :tenant and m.id = mg.membership_id and m.disabled_at is null
      join groups g on g.tenant_id = :tenant and g.id = gu.ancestor_id
     where m.user_id in (select id from listening)
  ), candidates as (
    select ca.user_id, d.id as asset_id, d.next_renewal_on, d.week, 0 as via, ca.via_name
      from due d join customer_admins ca on ca.customer_id = d.customer_id
    union all
    select gm.user_id, d.id, d.next_renewal_on, d.week, 1, gm.via_name
      from due d join group_members gm on gm.group_id = d.group_id
  )
  insert into renewal_reminder_queue (tenant_id, user_id, asset_id, renewal_on, week, via, via_name)
  select distinct on (c.user_id, c.asset_id)
         :tenant, c.user_id, c.asset_id, c.next_renewal_on, c.week, c.via, c.via_name
    from candidates c
   where not exists (select 1 from renewal_reminders_sent r
                      where r.tenant_id = :tenant and r.asset_id = c.asset_id and r.renewal_on = c.next_renewal_on
                        and r.week = c.week and r.user_id = c.user_id)
   order by c.user_id, c.asset_id, c.via, c.via_name
  on conflict do nothing`;

type DueKey = { day: Day; id: string };

/** The last key of the tenant's next batch in the window, or null when fewer than `size` remain (index only). */
async function dueBatchEnd(
  db: Db,
  tenantId: string,
  after: DueKey,
  lastDay: Day,
  size: number,
): Promise<DueKey | null> {
  const { rows } = await db.raw<{ rows: DueKey[] }>(
    `select next_renewal_on as day, id from assets
      where tenant_id = ? and next_renewal_on is not null
        and (next_renewal_on, id) > (?::date, ?::uuid) and next_renewal_on <= ?::date
      order by next_renewal_on, id offset ? limit 1`,
    [tenantId, after.day, after.id, lastDay, size - 1],
  );
  return rows[0] ?? null;
}

/** Phase 1: what is due for whom, tenant by tenant, in keyset batches over the renewal window. */
async function findDue(db: Db, today: Day, batchSize: number): Promise<number> {
  let batches = 0;
  const lastDay = addDays(today, RENEWAL_WARNING_DAYS);
  // a disabled tenant's people cannot sign in: no reminder sends them to a portal closed to them
  const tenants: string[] = await db('tenants').whereNull('disabled_at').orderBy('id').pluck('id');
  for (const tenant of tenants) {
    let from: DueKey = { day: addDays(today, -1), id: MAX_UUID };
    for (;;) {
      const to = await dueBatchEnd(db, tenant, from, lastDay, batchSize);
      const bound = to
        ? 'and (a.next_renewal_on, a.id) <= (:toDay::date, :toId::uuid)'
        : 'and a.next_renewal_on <= :lastDay::date';
      await db.raw(FIND_DUE.replace('/*upper bound*/', bound), {
        tenant,
        fromDay: from.day,
        fromId: from.id,
        toDay: to?.day ?? lastDay,
        toId: to?.id ?? MAX_UUID,
        lastDay,
        today,
      });
      batches++;
      if (!to) break;
      from = to;
    }
  }
  return batches;
}

/** One asset of a person's reminder, and why they get it (0: company admin of viaName; 1: in group viaName). */
export type ReminderLine = {
  assetId: string;
  identifier: string;
  name: string;
  groupPath: string;
  customer: string;
  plan: Plan;
  renewalOn: Day;
  via: 0 | 1;
  viaName: string;
};

type Person = {
  id: string;
  email: string;
  name: string;
  status: string;
  subscribed: boolean;
  tenant_name: string;
  locale: string;
};

/** Phase 2 for one person: records their reminders and queues one mail, in one transaction. */
async function remindPerson(trx: Trx, tenantId: string, userId: string, now: Date, links: MailLinks): Promise<number> {
  const { rows: people } = await trx.raw<{ rows: Person[] }>(
    `select u.id, u.email, u.name, u.status, t.name as tenant_name, ${recipientLocale('u')} as locale,
            not exists (select 1 from notification_settings s
                         where s.user_id = u.id and s.kind = 'renewal_reminders' and not s.enabled) as subscribed
       from users u, tenants t where u.id = ? and t.id = ?`,
    [userId, tenantId],
  );
  const person = people[0];
  const queued = trx('renewal_reminder_queue').where({ tenant_id: tenantId, user_id: userId });
  // disabled or unsubscribed since phase 1: their queue simply goes
  if (!person || person.status !== 'active' || !person.subscribed) {
    await queued.del();
    return 0;
  }
  const { rows } = await trx.raw<{
    rows: (Omit<ReminderLine, 'renewalOn' | 'groupPath' | 'assetId'> & {
      asset_id: string;
      renewal_on: Day;
      group_path: string;
    })[];
  }>(
    `with q as (
       delete from renewal_reminder_queue where tenant_id = :tenant and user_id = :user
       returning tenant_id, asset_id, renewal_on, week, user_id, via, via_name
     ), recorded as (
       insert into renewal_reminders_sent (tenant_id, asset_id, renewal_on, week, user_id, sent_at)
       select tenant_id, asset_id, renewal_on, week, user_id, :now from q
       on conflict do nothing
       returning asset_id
     )
     -- the main query sees the queue as it was before the delete: its own index, not a scan of q per row
     select a.id as asset_id, a.identifier, a.name, a.group_path, c.title as customer, a.plan,
            q.renewal_on, q.via, q.via_name as "viaName"
       from recorded r
       join renewal_reminder_queue q on q.tenant_id = :tenant and q.user_id = :user and q.asset_id = r.asset_id
       join assets a on a.tenant_id = q.tenant_id and a.id = q.asset_id
       join customers c on c.tenant_id = a.tenant_id and c.id = a.customer_id
      order by q.via, q.via_name, q.renewal_on, c.title, a.group_path, a.identifier`,
    { tenant: tenantId, user: userId, now },
  );
  if (!rows.length) return 0;
  const lines: ReminderLine[] = rows.map((r) => ({
    assetId: r.asset_id,
    identifier: r.identifier,
    name: r.name,
    groupPath: r.group_path,
    customer: r.customer,
    plan: r.plan,
    renewalOn: r.renewal_on,
    via: r.via,
    viaName: r.viaName,
  }));
  const mail = reminderMail(
    { name: person.name, userId, tenantName: person.tenant_name },
    lines,
    todayIn('UTC', now),
    links,
    // in the recipient's language
    translator(isLocale(person.locale) ? person.locale : 'en'),
  );
  await enqueueMail(trx, {
    tenantId,
    kind: 'renewal_reminder',
    to: person.email,
    userId,
    subject: mail.subject,
    text: mail.text,
    headers: unsubscribeHeaders(links, userId, 'renewal_reminders'),
  });
  return lines.length;
}

export type ReminderCounts = { mails: number; reminders: number };

/** The daily reminder run over every tenant; idempotent (see above). */
export async function sendRenewalReminders(
  db: Db,
  input: { now: Date; links: MailLinks; batchSize?: number },
): Promise<ReminderCounts> {
  const today = todayIn('UTC', input.now);
  // the queue is scratch: what a crashed run left is found again below
  await db('renewal_reminder_queue').del();
  await findDue(db, today, input.batchSize ?? REMINDER_BATCH);
  const counts: ReminderCounts = { mails: 0, reminders: 0 };
  let after = { tenant_id: NIL, user_id: NIL };
  for (;;) {
    const people: { tenant_id: string; user_id: string }[] = await db('renewal_reminder_queue')
      .whereRaw('(tenant_id, user_id) > (?::uuid, ?::uuid)', [after.tenant_id, after.user_id])
      .distinct('tenant_id', 'user_id')
      .orderBy([{ column: 'tenant_id' }, { column: 'user_id' }])
      .limit(PEOPLE_BATCH);
    for (const p of people) {
      const n = await db.transaction((trx) => remindPerson(trx, p.tenant_id, p.user_id, input.now, input.links));
      if (n) {
        counts.mails++;
        counts.reminders += n;
      }
    }
    if (people.length < PEOPLE_BATCH) return counts;
    after = people[people.length - 1]!;
  }
}
