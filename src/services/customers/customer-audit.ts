import { Readable } from 'node:stream';
import type { Db, Trx } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import { csvLine } from '../platform/csv.js';
import { formatDateTime } from '../platform/time-format.js';
import { english, msg, type Translator } from '../platform/i18n.js';
import { AUDIT_PAGE_SIZE, differenceOf, isUuid, type Difference } from './rules.js';
import { type Actor, asActor, authorize, customerIdsInReach, isStaff } from '../access/index.js';

/** A customer's audit log as staff read it, kept readable after the customer is deleted. */

export type AuditEntryView = {
  id: number;
  at: Date;
  atLabel: string;
  actorLabel: string;
  entityType: string;
  entityId: string;
  action: string;
  difference: Difference;
};
export type AuditPage = {
  customer: { id: string; title: string; deleted: boolean };
  entries: AuditEntryView[];
  olderBefore: number | null;
  isFirstPage: boolean;
};

/** An audit row as the log pages read it, and its view. */
type AuditRow = {
  id: number;
  at: Date;
  actor_label: string;
  entity_type: string;
  entity_id: string;
  action: string;
  before: unknown;
  after: unknown;
};
const AUDIT_COLUMNS = ['id', 'at', 'actor_label', 'entity_type', 'entity_id', 'action', 'before', 'after'];

function entryView(r: AuditRow, timeZone: string): AuditEntryView {
  return {
    id: r.id,
    at: r.at,
    atLabel: formatDateTime(r.at, timeZone),
    actorLabel: r.actor_label,
    entityType: r.entity_type,
    entityId: r.entity_id,
    action: r.action,
    difference: differenceOf(r.before, r.after),
  };
}

/**
 * A customer's audit log, newest first, a page of 50 at a time by keyset (`before` = an entry id).
 * The log of a deleted customer stays readable: its last entry names it.
 */
export async function listAuditEntries(
  db: Db,
  actor: Actor,
  customerId: string,
  opts: { before?: number | null } = {},
): Promise<AuditPage> {
  authorize(actor, 'audit.view');
  if (!isUuid(customerId)) throw new NotFoundError();
  const beforeId = opts.before ?? null;
  return asActor(db, actor, async (trx) => {
    const customer = await auditSubject(trx, actor, customerId);
    const q = trx('audit_log').where({ tenant_id: actor.tenantId, customer_id: customerId });
    if (beforeId) q.where('id', '<', beforeId);
    const rows: AuditRow[] = await q
      .orderBy('id', 'desc')
      .limit(AUDIT_PAGE_SIZE + 1)
      .select(AUDIT_COLUMNS);
    const page = rows.slice(0, AUDIT_PAGE_SIZE);
    return {
      customer,
      entries: page.map((r) => entryView(r, actor.timeZone)),
      olderBefore: rows.length > AUDIT_PAGE_SIZE ? page[page.length - 1]!.id : null,
      isFirstPage: beforeId === null,
    };
  });
}

async function auditSubject(trx: Trx, actor: Actor, customerId: string): Promise<AuditPage['customer']> {
  const live = await trx('customers')
    .where({ tenant_id: actor.tenantId, id: customerId })
    .whereIn('id', customerIdsInReach(trx, actor))
    .first<{ id: string; title: string } | undefined>('id', 'title');
  if (live) return { ...live, deleted: false };
  if (!isStaff(actor)) throw new NotFoundError(); // a deleted customer's log is the provider's record alone
  const gone = await trx('audit_log')
    .where({
      tenant_id: actor.tenantId,
      customer_id: customerId,
      entity_type: 'customer',
      entity_id: customerId,
      action: 'customer.deleted',
    })
    .first<{ before: { title?: string } | null } | undefined>('before');
  if (!gone) throw new NotFoundError();
  return { id: customerId, title: gone.before?.title ?? msg('Deleted customer'), deleted: true };
}

/**
 * The customer's audit tab as CSV (/admin/customers/:id/audit.csv): every entry, newest first, read in
 * the tab's own keyset pages (listAuditEntries), so no connection is held while the reader reads. 404
 * before any header when the tab itself would be. The header row and the times are in the requester's
 * language (`tr`); the log's own words (who, what, the difference) are as recorded.
 */
export async function streamCustomerAuditCsv(
  db: Db,
  actor: Actor,
  customerId: string,
  tr: Translator = english,
): Promise<{ filename: string; stream: Readable }> {
  const first = await listAuditEntries(db, actor, customerId);
  async function* lines() {
    yield csvLine([
      tr.t('Time ({zone})', { zone: actor.timeZone }),
      tr.t('By'),
      tr.t('Entity'),
      tr.t('Entity id'),
      tr.t('Action'),
      tr.t('Difference'),
    ]);
    let page: AuditPage = first;
    for (;;) {
      yield page.entries
        .map((e) =>
          csvLine([
            tr.dateTime(e.at, actor.timeZone),
            e.actorLabel,
            e.entityType,
            e.entityId,
            e.action,
            Object.keys(e.difference).length ? JSON.stringify(e.difference) : '',
          ]),
        )
        .join('');
      if (!page.olderBefore) return;
      page = await listAuditEntries(db, actor, customerId, { before: page.olderBefore });
    }
  }
  const name = first.customer.title.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'customer';
  return { filename: `audit-log-${name}.csv`, stream: Readable.from(lines()) };
}

/** /admin/audit's filters: a customer, a person (their user id, or words of the "By" column), a kind, a period. */
export type TenantAuditFilter = {
  customer: string;
  actor: string;
  kind: string;
  from: string | null;
  to: string | null;
  before: number | null;
};

export type TenantAuditPage = {
  filter: TenantAuditFilter;
  entries: (AuditEntryView & { customerId: string | null; customerTitle: string | null })[];
  olderBefore: number | null;
  customers: { id: string; title: string }[];
};

const likeText = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The tenant's whole audit log for its tenant admins (/admin/audit), newest first, 50 at a time by
 * keyset (`before` = an entry id), filtered by customer, person (actor_user_id when the filter is a
 * user id, else the "By" text), kind (an action, or its part before the dot: `customer` is every
 * customer.* action) and period (inclusive days in the admin's time zone, as the export reads them).
 */
export async function listTenantAudit(db: Db, actor: Actor, filter: TenantAuditFilter): Promise<TenantAuditPage> {
  authorize(actor, 'audit.view');
  return asActor(db, actor, async (trx) => {
    const q = trx('audit_log as l')
      .leftJoin('customers as c', function () {
        this.on('c.tenant_id', 'l.tenant_id').andOn('c.id', 'l.customer_id');
      })
      .where('l.tenant_id', actor.tenantId);
    if (filter.customer) q.where('l.customer_id', filter.customer);
    if (filter.actor)
      if (isUuid(filter.actor)) q.where('l.actor_user_id', filter.actor);
      else q.whereRaw("l.actor_label ilike ? escape '\\'", [likeText(filter.actor)]);
    if (filter.kind)
      q.where((w) =>
        w.where('l.action', filter.kind).orWhere('l.action', 'like', `${filter.kind.replace(/[\\%_]/g, '')}.%`),
      );
    if (filter.from) q.whereRaw('l.at >= (?::date)::timestamp at time zone ?', [filter.from, actor.timeZone]);
    if (filter.to) q.whereRaw('l.at < (?::date + 1)::timestamp at time zone ?', [filter.to, actor.timeZone]);
    if (filter.before) q.where('l.id', '<', filter.before);
    const rows: (AuditRow & { customer_id: string | null; customer_title: string | null })[] = await q
      .orderBy('l.id', 'desc')
      .limit(AUDIT_PAGE_SIZE + 1)
      .select([...AUDIT_COLUMNS.map((c) => `l.${c}`), 'l.customer_id', 'c.title as customer_title']);
    const page = rows.slice(0, AUDIT_PAGE_SIZE);
    const customers: { id: string; title: string }[] = await trx('customers')
      .where('tenant_id', actor.tenantId)
      .orderByRaw('lower(title), id')
      .select('id', 'title');
    return {
      filter,
      entries: page.map((r) => ({
        ...entryView(r, actor.timeZone),
        customerId: r.customer_id,
        customerTitle: r.customer_title,
      })),
      olderBefore: rows.length > AUDIT_PAGE_SIZE ? page[page.length - 1]!.id : null,
      customers,
    };
  });
}
