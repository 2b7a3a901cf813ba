import type { Db, Trx } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import { isUuid } from '../customers/rules.js';
import { type Actor, asActor, authorize, can, scopeTickets } from '../access/index.js';
import {
  acceptsComments,
  TICKET_CATEGORY_LABELS,
  TICKET_STATUS_LABELS,
  type TicketCategory,
  type TicketStatus,
} from './rules.js';
import { formatDateTime } from '../platform/time-format.js';
import { personShownTo } from '../people/rules.js';

/** One ticket: found in the actor's reach, and its page with the thread as customers and staff see it. */

/** A tickets row, as the ticket modules read it. */
export type TicketRow = {
  id: string;
  tenant_id: string;
  number: string;
  customer_id: string;
  asset_id: string | null;
  subject: string;
  category: TicketCategory;
  status: TicketStatus;
  opened_by: string | null;
  opened_by_label: string;
  created_at: Date;
  updated_at: Date;
};
const TICKET_COLUMNS = [
  'id',
  'tenant_id',
  'number',
  'customer_id',
  'asset_id',
  'subject',
  'category',
  'status',
  'opened_by',
  'opened_by_label',
  'created_at',
  'updated_at',
];

/** The ticket if the actor reaches it (404 otherwise); locked for the rest of the transaction when asked. */
export async function findTicketInScope(
  trx: Trx,
  actor: Actor,
  id: unknown,
  opts: { forUpdate?: boolean } = {},
): Promise<TicketRow> {
  if (!isUuid(id)) throw new NotFoundError();
  const q = scopeTickets(trx, actor, 't')
    .where('t.id', id)
    .first<TicketRow | undefined>(TICKET_COLUMNS.map((c) => `t.${c}`));
  if (opts.forUpdate) q.forUpdate();
  const ticket = await q;
  if (!ticket) throw new NotFoundError();
  return ticket;
}

export type TicketEntry = {
  id: string;
  kind: 'comment' | 'status_change';
  author: string;
  byStaff: boolean;
  body: string | null;
  fromLabel: string;
  toLabel: string;
  atLabel: string;
  at: Date;
};

export type TicketPage = {
  ticket: TicketRow & { statusLabel: string; categoryLabel: string; createdAtLabel: string; updatedAtLabel: string };
  customer: { id: string; title: string; account_id: string };
  asset: { id: string; identifier: string; name: string } | null;
  entries: TicketEntry[];
  canComment: boolean;
  canFollow: boolean;
  following: boolean;
};

/** The thread, oldest first, as the customer and staff both see it. */
async function entriesOf(trx: Trx, actor: Actor, ticket: TicketRow): Promise<TicketEntry[]> {
  const rows: {
    id: string;
    kind: 'comment' | 'status_change';
    author_label: string;
    by_staff: boolean;
    body: string | null;
    from_status: TicketStatus | null;
    to_status: TicketStatus | null;
    created_at: Date;
  }[] = await trx('ticket_entries')
    .where({ tenant_id: ticket.tenant_id, ticket_id: ticket.id })
    .orderBy('id')
    .select('id', 'kind', 'author_label', 'by_staff', 'body', 'from_status', 'to_status', 'created_at');
  return rows.map((r) => ({
    id: String(r.id),
    kind: r.kind,
    author: personShownTo(actor, r.author_label, r.by_staff),
    byStaff: r.by_staff,
    body: r.body,
    fromLabel: r.from_status ? TICKET_STATUS_LABELS[r.from_status] : '',
    toLabel: r.to_status ? TICKET_STATUS_LABELS[r.to_status] : '',
    atLabel: formatDateTime(r.created_at, actor.timeZone),
    at: r.created_at,
  }));
}

export async function getTicket(db: Db, actor: Actor, id: string): Promise<TicketPage> {
  if (!can(actor, 'ticket.view')) authorize(actor, 'ticket.staff_view');
  return asActor(db, actor, async (trx) => {
    const ticket = await findTicketInScope(trx, actor, id);
    const customer = await trx('customers')
      .where({ tenant_id: ticket.tenant_id, id: ticket.customer_id })
      .first<TicketPage['customer']>('id', 'title', 'account_id');
    const asset = ticket.asset_id
      ? ((await trx('assets')
          .where({ tenant_id: ticket.tenant_id, id: ticket.asset_id })
          .first<TicketPage['asset']>('id', 'identifier', 'name')) ?? null)
      : null;
    const following = !!(await trx('ticket_followers')
      .where({ tenant_id: ticket.tenant_id, ticket_id: ticket.id, user_id: actor.userId })
      .first('user_id'));
    const open = acceptsComments(ticket.status);
    return {
      ticket: {
        ...ticket,
        number: String(ticket.number),
        statusLabel: TICKET_STATUS_LABELS[ticket.status],
        categoryLabel: TICKET_CATEGORY_LABELS[ticket.category],
        createdAtLabel: formatDateTime(ticket.created_at, actor.timeZone),
        updatedAtLabel: formatDateTime(ticket.updated_at, actor.timeZone),
      },
      customer,
      asset,
      entries: await entriesOf(trx, actor, ticket),
      canComment: open && (can(actor, 'ticket.comment') || can(actor, 'ticket.reply')),
      canFollow: can(actor, 'ticket.follow') && ticket.opened_by !== actor.userId,
      following,
    };
  });
}
