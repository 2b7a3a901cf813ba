import type { Db } from '../../db/index.js';
import { enqueueMail, type MailAttachment, type MailLinks, unsubscribeHeaders } from '../mail/index.js';
import { streamAssetsCsv } from '../assets/index.js';
import { customerHome } from '../customers/index.js';
import { listCustomerTickets } from '../tickets/index.js';
import { customerBillingAccount, formatMoney, ownDailyUsage, toDecimalString } from '../billing/index.js';
import { PRODUCT_LABELS, PRODUCTS } from '../billing/usage-rules.js';
import { loadActor } from '../people/index.js';
import { csvLine } from '../platform/csv.js';
import { todayIn } from '../assets/subscription-rules.js';
import type { Actor, Role } from '../access/index.js';
import { monthOf, weekOf, type Day, type Period } from './period-rules.js';
import { digestMail, type DigestSection, statementMail, type StatementSection } from './report-mail.js';
import { isLocale, recipientLocale, translator, type Translator } from '../platform/index.js';

/**
 * Scheduled reports by mail: the weekly fleet digest (company and group admins: what renews within 4
 * weeks, requests pending, tickets waiting for them; the due list attached as CSV) and the monthly
 * statement (company admins, their customer's billing contacts: the last month's usage per product,
 * its charges, the balance; attached as CSV). Each is a notification switch (mail/notifications.ts)
 * with the reminders' one-click unsubscribe.
 *
 * Once per person per period, in the person's time zone: a week starts on Monday, a statement covers the
 * month before the one it is today for the person. The first run on or after a period's first day
 * sends it. Exactly once: report_deliveries holds a row per (tenant, person, report, period) written
 * in the SAME transaction as the mail (insert … on conflict do nothing), so a rerun, a crash or another
 * instance never sends a period twice, the renewal reminders' mechanism. The content is read first,
 * through the pages' own services as that person (their scope, their time zone), so a report says
 * what the portal would show them.
 */

export const REPORTS = {
  weekly_digest: {
    roles: ['company_admin', 'group_admin'] as Role[],
    periodSql: `date_trunc('week', ?::timestamptz at time zone u.time_zone)::date`,
  },
  monthly_statement: {
    roles: ['company_admin'] as Role[],
    periodSql: `(date_trunc('month', ?::timestamptz at time zone u.time_zone) - interval '1 month')::date`,
  },
} as const;
export type ReportKind = keyof typeof REPORTS;

const PEOPLE_BATCH = 500;
const NIL = '00000000-0000-0000-0000-000000000000';

type Due = {
  tenant_id: string;
  user_id: string;
  name: string;
  email: string;
  tenant_name: string;
  period_start: Day;
  locale: string;
};

/** The next people owed this report for their current period, in (tenant, person) order after `after`. */
async function peopleDue(db: Db, report: ReportKind, now: Date, after: { tenant_id: string; user_id: string }) {
  const { roles, periodSql } = REPORTS[report];
  const { rows } = await db.raw<{ rows: Due[] }>(
    `select distinct on (m.tenant_id, m.user_id) m.tenant_id, m.user_id, u.name, u.email, t.name as tenant_name,
            ${recipientLocale('u')} as locale,
            to_char(${periodSql}, 'YYYY-MM-DD') as period_start
       from memberships m
       join users u on u.id = m.user_id
       join tenants t on t.id = m.tenant_id
      where (m.tenant_id, m.user_id) > (?::uuid, ?::uuid)
        and t.disabled_at is null and m.disabled_at is null and u.status = 'active' and m.role = any(?)
        and not exists (select 1 from notification_settings s where s.user_id = u.id and s.kind = ? and not s.enabled)
        and not exists (select 1 from report_deliveries d
                         where d.tenant_id = m.tenant_id and d.user_id = m.user_id and d.report = ?
                           and d.period_start = ${periodSql})
      order by m.tenant_id, m.user_id
      limit ?`,
    [now, after.tenant_id, after.user_id, roles, report, report, now, PEOPLE_BATCH],
  );
  return rows;
}

/** The person's actors in the tenant that get this report (one per membership, oldest first). */
async function actorsOf(db: Db, report: ReportKind, p: Due): Promise<Actor[]> {
  const ids: string[] = await db('memberships')
    .where({ tenant_id: p.tenant_id, user_id: p.user_id })
    .whereIn('role', REPORTS[report].roles)
    .whereNull('disabled_at')
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
    .pluck('id');
  const actors = await Promise.all(ids.map((id) => loadActor(db, p.user_id, id)));
  return actors.filter((a): a is Actor => !!a);
}

const safeName = (text: string) => text.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'customer';

async function textOf(stream: AsyncIterable<Buffer | string>): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  return out;
}

/** One actor's part of the digest: the asset list's due=28d CSV, the home page's pending count, the tickets waiting. */
async function digestOf(db: Db, actor: Actor, today: Day): Promise<{ section: DigestSection; csv: MailAttachment }> {
  const { stream, filename } = await streamAssetsCsv(db, actor, {
    tab: 'all',
    q: '',
    due: '28d',
    after: null,
    before: null,
    size: 100,
    today,
  });
  const csv = await textOf(stream);
  const due = Math.max(0, csv.split('\n').filter(Boolean).length - 1);
  const home = await customerHome(db, actor, today);
  const tickets = await listCustomerTickets(db, actor, { status: 'waiting_on_customer', customerId: '', after: '' });
  return {
    section: {
      place: actor.placeName,
      due,
      pendingRequests: home.pendingRequests,
      tickets: tickets.rows.map((t) => ({
        title: `${t.number ? `${t.number} ` : ''}${t.title}`,
        href: t.href ?? '/tickets',
      })),
      moreTickets: !!tickets.nextAfter,
    },
    csv: {
      filename: filename.replace(/\.csv$/, `-${safeName(actor.placeName)}.csv`),
      contentType: 'text/csv; charset=utf-8',
      content: csv,
    },
  };
}

/**
 * One actor's part of the statement: their customer's account (/billing's) and the month's usage per
 * product and day (/usage's figures).
 */
async function statementOf(
  db: Db,
  actor: Actor,
  month: Period,
  tr: Translator,
): Promise<{ section: StatementSection; csv: MailAttachment }> {
  const money = (minor: bigint | number | string, currency: string) => formatMoney(minor, currency, tr.formatLocale);
  const { customer } = await customerBillingAccount(db, actor, actor.customerId);
  const filter = { from: month.from, to: month.to, direction: null, status: null, after: null, size: 1 };
  const lines = [
    csvLine([
      tr.t('Product'),
      tr.t('Day'),
      tr.t('Records'),
      tr.t('Charges ({currency})', { currency: customer.currency }),
    ]),
  ];
  const products: StatementSection['products'] = [];
  let total = 0n;
  for (const product of PRODUCTS) {
    const days = await ownDailyUsage(db, actor, customer.id, product, filter);
    let records = 0;
    let spend = 0n;
    for (const d of days) {
      records += d.records;
      spend += BigInt(d.spendMinor);
      lines.push(
        csvLine([tr.t(PRODUCT_LABELS[product]), d.day, d.records, toDecimalString(d.spendMinor, customer.currency)]),
      );
    }
    total += spend;
    products.push({ label: PRODUCT_LABELS[product], records, charges: money(spend, customer.currency) });
  }
  return {
    section: {
      customer: customer.title,
      accountId: customer.account_id,
      products,
      charges: money(total, customer.currency),
      balance: money(customer.balance_minor, customer.currency),
    },
    csv: {
      filename: `statement-${customer.account_id}-${month.from.slice(0, 7)}.csv`,
      contentType: 'text/csv; charset=utf-8',
      content: lines.join(''),
    },
  };
}

/** Builds one person's report and, if this period is still unclaimed, claims it and queues the mail at once. */
async function sendOne(db: Db, report: ReportKind, p: Due, now: Date, links: MailLinks): Promise<boolean> {
  const actors = await actorsOf(db, report, p);
  if (!actors.length) return false;
  const person = { name: p.name, userId: p.user_id, tenantName: p.tenant_name };
  const tr = translator(isLocale(p.locale) ? p.locale : 'en');
  // one after another: an asset export holds one connection per person at a time
  const parts: { section: DigestSection | StatementSection; csv: MailAttachment }[] = [];
  for (const a of actors)
    parts.push(
      report === 'weekly_digest'
        ? await digestOf(db, a, todayIn(a.timeZone, now))
        : await statementOf(db, a, monthOf(p.period_start), tr),
    );
  const mail =
    report === 'weekly_digest'
      ? digestMail(
          person,
          weekOf(p.period_start),
          parts.map((x) => x.section as DigestSection),
          links,
          tr,
        )
      : statementMail(
          person,
          monthOf(p.period_start),
          parts.map((x) => x.section as StatementSection),
          links,
          tr,
        );
  return db.transaction(async (trx) => {
    const claimed = await trx('report_deliveries')
      .insert({ tenant_id: p.tenant_id, user_id: p.user_id, report, period_start: p.period_start, sent_at: now })
      .onConflict(['tenant_id', 'user_id', 'report', 'period_start'])
      .ignore()
      .returning('user_id');
    if (!claimed.length) return false;
    await enqueueMail(trx, {
      tenantId: p.tenant_id,
      kind: report,
      to: p.email,
      userId: p.user_id,
      subject: mail.subject,
      text: mail.text,
      headers: unsubscribeHeaders(links, p.user_id, report),
      attachments: parts.map((x) => x.csv),
    });
    return true;
  });
}

export type ReportCounts = { digests: number; statements: number };

/** The hourly run: every person owed a report for their current period gets it; idempotent (see above). */
export async function sendScheduledReports(db: Db, input: { now: Date; links: MailLinks }): Promise<ReportCounts> {
  const counts: ReportCounts = { digests: 0, statements: 0 };
  for (const report of Object.keys(REPORTS) as ReportKind[]) {
    let after = { tenant_id: NIL, user_id: NIL };
    for (;;) {
      const people = await peopleDue(db, report, input.now, after);
      for (const p of people) {
        if (await sendOne(db, report, p, input.now, input.links)) {
          if (report === 'weekly_digest') counts.digests++;
          else counts.statements++;
        }
      }
      if (people.length < PEOPLE_BATCH) break;
      after = people[people.length - 1]!;
    }
  }
  return counts;
}
