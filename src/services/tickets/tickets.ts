import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { REQUEST_KIND_LABELS, REQUEST_STATE_LABELS, type RequestKind, type RequestState } from '../assets/rules.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize, can, isStaff, scopeAssets, scopeTickets } from '../access/index.js';
import { isTicketStatus, TICKET_STATUS_LABELS, type TicketStatus } from './rules.js';
import { formatDateTime } from '../platform/time-format.js';
import type { TicketRow } from './ticket-page.js';
import { msg } from '../platform/index.js';

/**
 * Ticket lists: a customer's tickets with their assets' status changes as history, staff's list of
 * the tenant's tickets, and an asset's tickets; each built from the actor's reach (scopeTickets).
 */

export const TICKET_PAGE_SIZE = 25;
/** the asset page lists this many of the asset's tickets, newest activity first */
export const ASSET_TICKETS_LIMIT = 20;
/** asset requests that belong in the tickets list as history: the status changes of an asset */
const HISTORY_KINDS: RequestKind[] = ['activation', 'reactivation', 'deactivation'];

export type TicketListFilter = { status: TicketStatus | ''; customerId: string; after: string };

/** The list state from a query string; anything unknown reads as "no filter". */
export function ticketFilterFrom(query: Record<string, unknown>): TicketListFilter {
  const status = typeof query.status === 'string' && isTicketStatus(query.status) ? query.status : '';
  const customerId = typeof query.customer === 'string' && isUuid(query.customer) ? query.customer : '';
  const after = typeof query.after === 'string' && /^[tr]:[0-9a-f-]{36}$/i.test(query.after) ? query.after : '';
  return { status, customerId, after };
}

export type HistoryEntry = {
  type: 'ticket' | 'request';
  id: string;
  href: string | null;
  atLabel: string;
  at: Date;
  title: string;
  statusKey: string;
  statusLabel: string;
  assetId: string | null;
  assetLabel: string;
  customerTitle: string;
  number: string | null;
};

export type TicketList = TicketListFilter & {
  rows: HistoryEntry[];
  nextAfter: string | null;
  customers: { id: string; title: string }[];
};

type UnionRow = {
  type: 'ticket' | 'request';
  id: string;
  at: Date;
  number: string | null;
  subject: string | null;
  status: string;
  kind: string;
  asset_id: string | null;
  identifier: string | null;
  asset_name: string | null;
  customer_title: string;
};

function ticketsSelect(trx: Trx, actor: Actor, filter: TicketListFilter): Knex.QueryBuilder {
  const q = scopeTickets(trx, actor, 't')
    .leftJoin('assets as a', function () {
      this.on('a.tenant_id', 't.tenant_id').andOn('a.id', 't.asset_id');
    })
    .join('customers as c', function () {
      this.on('c.tenant_id', 't.tenant_id').andOn('c.id', 't.customer_id');
    })
    .select(
      trx.raw("'ticket' as type"),
      't.id',
      't.updated_at as at',
      't.number',
      't.subject',
      't.status',
      't.category as kind',
      't.asset_id',
      'a.identifier',
      'a.name as asset_name',
      'c.title as customer_title',
    );
  if (filter.status) q.where('t.status', filter.status);
  if (filter.customerId) q.where('t.customer_id', filter.customerId);
  return q;
}

function requestsSelect(trx: Trx, actor: Actor): Knex.QueryBuilder {
  return trx('asset_requests as r')
    .join('assets as a', function () {
      this.on('a.tenant_id', 'r.tenant_id').andOn('a.id', 'r.asset_id');
    })
    .join('customers as c', function () {
      this.on('c.tenant_id', 'r.tenant_id').andOn('c.id', 'r.customer_id');
    })
    .where('r.tenant_id', actor.tenantId)
    .whereIn('r.kind', HISTORY_KINDS)
    .whereRaw('r.asset_id = any(array(?))', [scopeAssets(trx, actor, 'sa').select('sa.id')])
    .select(
      trx.raw("'request' as type"),
      'r.id',
      trx.raw('coalesce(r.decided_at, r.requested_at) as at'),
      trx.raw('null::bigint as number'),
      trx.raw('null::text as subject'),
      'r.state as status',
      'r.kind',
      'r.asset_id',
      'a.identifier',
      'a.name as asset_name',
      'c.title as customer_title',
    );
}

/** The time and id a keyset cursor stands for, read from the row itself (no timestamps in URLs). */
function cursorKey(trx: Trx, actor: Actor, after: string): Knex.Raw | null {
  if (!after) return null;
  const [type, id] = after.split(':') as [string, string];
  return type === 't'
    ? trx.raw('(select p.updated_at, p.id from tickets p where p.tenant_id = ? and p.id = ?)', [actor.tenantId, id])
    : trx.raw(
        '(select coalesce(p.decided_at, p.requested_at), p.id from asset_requests p' +
          ' where p.tenant_id = ? and p.id = ?)',
        [actor.tenantId, id],
      );
}

function entryOf(actor: Actor, r: UnionRow): HistoryEntry {
  const assetLabel = r.asset_id ? `${r.asset_name || r.identifier} (${r.identifier})` : '';
  if (r.type === 'ticket') {
    return {
      type: 'ticket',
      id: r.id,
      href: `${isStaff(actor) ? '/admin' : ''}/tickets/${r.id}`,
      at: r.at,
      atLabel: formatDateTime(r.at, actor.timeZone),
      title: r.subject ?? '',
      statusKey: r.status,
      statusLabel: TICKET_STATUS_LABELS[r.status as TicketStatus],
      assetId: r.asset_id,
      assetLabel: assetLabel || msg('Account'),
      customerTitle: r.customer_title,
      number: String(r.number),
    };
  }
  return {
    type: 'request',
    id: r.id,
    href: null,
    at: r.at,
    atLabel: formatDateTime(r.at, actor.timeZone),
    title: `${REQUEST_KIND_LABELS[r.kind as RequestKind]} request`,
    statusKey: `request-${r.status}`,
    statusLabel: REQUEST_STATE_LABELS[r.status as RequestState],
    assetId: r.asset_id,
    assetLabel,
    customerTitle: r.customer_title,
    number: null,
  };
}

async function pageOf(
  trx: Trx,
  actor: Actor,
  filter: TicketListFilter,
  source: Knex.QueryBuilder | Knex.Raw,
): Promise<{ rows: HistoryEntry[]; nextAfter: string | null }> {
  const q = trx.queryBuilder().from(trx.raw('(?) as h', [source]));
  const key = cursorKey(trx, actor, filter.after);
  if (key) q.whereRaw('(h.at, h.id) < ?', [key]);
  const rows: UnionRow[] = await q
    .orderBy([
      { column: 'h.at', order: 'desc' },
      { column: 'h.id', order: 'desc' },
    ])
    .limit(TICKET_PAGE_SIZE + 1)
    .select('h.*');
  const page = rows.slice(0, TICKET_PAGE_SIZE);
  const last = page[page.length - 1];
  return {
    rows: page.map((r) => entryOf(actor, r)),
    nextAfter: rows.length > TICKET_PAGE_SIZE && last ? `${last.type === 'ticket' ? 't' : 'r'}:${last.id}` : null,
  };
}

/**
 * The customer's list: their tickets and, as history entries among them, the activation and
 * deactivation requests of the assets they reach, newest activity first. A status filter shows
 * tickets only.
 */
export async function listCustomerTickets(db: Db, actor: Actor, filter: TicketListFilter): Promise<TicketList> {
  authorize(actor, 'ticket.view');
  return asActor(db, actor, async (trx) => {
    const tickets = ticketsSelect(trx, actor, { ...filter, customerId: '' });
    const source = filter.status ? tickets : trx.raw('? union all ?', [tickets, requestsSelect(trx, actor)]);
    return { ...filter, customerId: '', ...(await pageOf(trx, actor, filter, source)), customers: [] };
  });
}

/** Staff: every ticket of the tenant, filtered by status and customer. */
export async function listStaffTickets(db: Db, actor: Actor, filter: TicketListFilter): Promise<TicketList> {
  authorize(actor, 'ticket.staff_view');
  return asActor(db, actor, async (trx) => {
    const page = await pageOf(trx, actor, filter, ticketsSelect(trx, actor, filter));
    const customers: { id: string; title: string }[] = await trx('customers as c')
      .where('c.tenant_id', actor.tenantId)
      .whereIn('c.id', trx('tickets').where({ tenant_id: actor.tenantId }).distinct('customer_id'))
      .orderBy([{ column: 'c.title' }, { column: 'c.id' }])
      .select('c.id', 'c.title');
    return { ...filter, ...page, customers };
  });
}

export type AssetTicket = {
  id: string;
  number: string;
  subject: string;
  status: TicketStatus;
  statusLabel: string;
  updatedAtLabel: string;
};

/** The asset's tickets for its page (newest activity first); the caller has checked the asset is in reach. */
export async function ticketsOfAsset(db: Db, actor: Actor, assetId: string): Promise<AssetTicket[]> {
  if (!can(actor, 'ticket.view') || !isUuid(assetId)) return [];
  return asActor(db, actor, async (trx) => {
    const rows: Pick<TicketRow, 'id' | 'number' | 'subject' | 'status' | 'updated_at'>[] = await scopeTickets(
      trx,
      actor,
      't',
    )
      .where('t.asset_id', assetId)
      .orderBy([
        { column: 't.updated_at', order: 'desc' },
        { column: 't.id', order: 'desc' },
      ])
      .limit(ASSET_TICKETS_LIMIT)
      .select('t.id', 't.number', 't.subject', 't.status', 't.updated_at');
    return rows.map((r) => ({
      id: r.id,
      number: String(r.number),
      subject: r.subject,
      status: r.status,
      statusLabel: TICKET_STATUS_LABELS[r.status],
      updatedAtLabel: formatDateTime(r.updated_at, actor.timeZone),
    }));
  });
}
