import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { findAssetInScope } from '../assets/index.js';
import { REQUEST_KIND_LABELS, REQUEST_STATE_LABELS, type RequestKind, type RequestState } from '../assets/rules.js';
import { isUuid } from '../customers/rules.js';
import { enqueueMail, type MailLinks, unsubscribeHeaders, unsubscribeUrl } from '../mail/index.js';
import { type Actor, asActor, authorize, can, isStaff, scopeAssets, scopeTickets } from '../access/index.js';
import {
  acceptsComments,
  isTicketStatus,
  messageProblem,
  newTicketProblems,
  statusAfterCustomerComment,
  TICKET_CATEGORY_LABELS,
  TICKET_STATUS_LABELS,
  type TicketCategory,
  type TicketStatus,
} from './rules.js';
import { formatDateTime } from '../platform/time-format.js';

/**
 * Trouble tickets: customers open them about an asset or their account and write in the thread;
 * staff reply and move the status. Staff replies and status changes mail the opener and the
 * company admins following the ticket (through the outbox, in the same transaction), unless they
 * turned ticket mail off.
 *
 * Reach: staff every ticket of the tenant; a company admin the tickets of their customer and its
 * inner customers; a group admin or supervisor the tickets about assets of their groups, and those
 * they opened themselves.
 */

export const TICKET_PAGE_SIZE = 25;
/** the asset page lists this many of the asset's tickets, newest activity first */
export const ASSET_TICKETS_LIMIT = 20;
/** asset requests that belong in the tickets list as history: the status changes of an asset */
const HISTORY_KINDS: RequestKind[] = ['activation', 'reactivation', 'deactivation'];

const actorLabel = (actor: Actor) => `${actor.name} <${actor.email}>`;

type TicketRow = {
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

async function findTicketInScope(
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

// ---- lists ----

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
        '(select coalesce(p.decided_at, p.requested_at), p.id from asset_requests p where p.tenant_id = ? and p.id = ?)',
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
      assetLabel: assetLabel || 'Account',
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

// ---- one ticket ----

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
  // customers see staff by their provider's name and first name, never their login email
  const shown = (label: string, byStaff: boolean) =>
    byStaff && !isStaff(actor)
      ? `${label.replace(/\s*<[^>]*>$/, '')} (${actor.tenantName})`
      : label.replace(/\s*<[^>]*>$/, '');
  return rows.map((r) => ({
    id: String(r.id),
    kind: r.kind,
    author: shown(r.author_label, r.by_staff),
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

// ---- changes ----

/** The asset a new ticket is about, for its form; 404 outside the actor's reach. */
export async function assetForNewTicket(
  db: Db,
  actor: Actor,
  assetId: string,
): Promise<{ id: string; identifier: string; name: string }> {
  authorize(actor, 'ticket.open');
  return asActor(db, actor, async (trx) => {
    const a = await findAssetInScope(trx, actor, assetId);
    return { id: a.id, identifier: a.identifier, name: a.name };
  });
}

export type NewTicket = { assetId: string; subject: string; category: string; message: string };

/** A customer opens a ticket about an asset they reach (assetId) or about their own account (''). */
export async function openTicket(db: Db, actor: Actor, input: NewTicket): Promise<{ id: string; number: string }> {
  authorize(actor, 'ticket.open');
  const errors = newTicketProblems(input);
  if (Object.keys(errors).length) throw new ValidationError(errors);
  return asActor(db, actor, async (trx) => {
    const asset = input.assetId ? await findAssetInScope(trx, actor, input.assetId) : null;
    const customerId = asset?.customer_id ?? actor.customerId;
    if (!customerId) throw new NotFoundError();
    const [ticket] = await trx('tickets')
      .insert({
        tenant_id: actor.tenantId,
        customer_id: customerId,
        asset_id: asset?.id ?? null,
        subject: input.subject.trim(),
        category: input.category,
        opened_by: actor.userId,
        opened_by_label: actorLabel(actor),
      })
      .returning(['id', 'number']);
    const row = ticket as { id: string; number: string };
    await trx('ticket_entries').insert({
      tenant_id: actor.tenantId,
      ticket_id: row.id,
      kind: 'comment',
      author_id: actor.userId,
      author_label: actorLabel(actor),
      body: input.message.trim(),
    });
    return { id: row.id, number: String(row.number) };
  });
}

async function insertEntries(
  trx: Trx,
  actor: Actor,
  ticket: TicketRow,
  change: { body: string | null; status: TicketStatus },
): Promise<void> {
  const by = {
    tenant_id: ticket.tenant_id,
    ticket_id: ticket.id,
    author_id: actor.userId,
    author_label: actorLabel(actor),
    by_staff: isStaff(actor),
  };
  if (change.body) await trx('ticket_entries').insert({ ...by, kind: 'comment', body: change.body });
  if (change.status !== ticket.status)
    await trx('ticket_entries').insert({
      ...by,
      kind: 'status_change',
      from_status: ticket.status,
      to_status: change.status,
    });
  await trx('tickets')
    .where({ tenant_id: ticket.tenant_id, id: ticket.id })
    .update({ status: change.status, updated_at: trx.fn.now() });
}

/** A customer's comment; on a ticket waiting for them (or resolved) it also opens the ticket again. */
export async function addCustomerComment(db: Db, actor: Actor, ticketId: string, body: string): Promise<void> {
  authorize(actor, 'ticket.comment');
  const problem = messageProblem(body);
  if (problem) throw new ValidationError({ body: problem });
  await asActor(db, actor, async (trx) => {
    const ticket = await findTicketInScope(trx, actor, ticketId, { forUpdate: true });
    if (!acceptsComments(ticket.status))
      throw new ConflictError('This ticket is closed: open a new ticket if the problem is back.');
    await insertEntries(trx, actor, ticket, { body: body.trim(), status: statusAfterCustomerComment(ticket.status) });
  });
}

/**
 * Staff answer: a reply, a new status, or both, in one change; the opener and the followers hear of
 * it by mail in the same transaction. Returns how many mails were queued.
 */
export async function staffUpdateTicket(
  db: Db,
  actor: Actor,
  ticketId: string,
  input: { body: string; status: string },
  links: MailLinks,
): Promise<{ mails: number }> {
  authorize(actor, 'ticket.reply');
  const body = input.body.trim();
  if (input.status && !isTicketStatus(input.status))
    throw new ValidationError({ status: 'Choose a status from the list.' });
  if (body) {
    const problem = messageProblem(body);
    if (problem) throw new ValidationError({ body: problem });
  }
  return asActor(db, actor, async (trx) => {
    const ticket = await findTicketInScope(trx, actor, ticketId, { forUpdate: true });
    const status = (input.status || ticket.status) as TicketStatus;
    if (!body && status === ticket.status) throw new ValidationError({ body: 'Write a reply or choose a new status.' });
    if (body && !acceptsComments(ticket.status) && status === 'closed')
      throw new ConflictError('This ticket is closed: change its status to reply.');
    await insertEntries(trx, actor, ticket, { body: body || null, status });
    return {
      mails: await mailTicketUpdate(
        trx,
        actor,
        { ...ticket, status },
        { body: body || null, statusChanged: status !== ticket.status },
        links,
      ),
    };
  });
}

/** A company admin follows a ticket (or stops): followers get the same mail as the opener. */
export async function setFollowing(db: Db, actor: Actor, ticketId: string, follow: boolean): Promise<void> {
  authorize(actor, 'ticket.follow');
  await asActor(db, actor, async (trx) => {
    const ticket = await findTicketInScope(trx, actor, ticketId);
    const key = { tenant_id: ticket.tenant_id, ticket_id: ticket.id, user_id: actor.userId };
    if (follow) await trx('ticket_followers').insert(key).onConflict(['tenant_id', 'ticket_id', 'user_id']).ignore();
    else await trx('ticket_followers').where(key).del();
  });
}

// ---- the mail ----

type Recipient = { id: string; email: string; name: string };

/**
 * Who hears of a staff answer: the opener and the followers, while they are active, still belong to
 * the tenant and have not turned ticket mail off; never the staff member who wrote it.
 */
async function recipientsOf(trx: Trx, actor: Actor, ticket: TicketRow): Promise<Recipient[]> {
  const { rows } = await trx.raw<{ rows: Recipient[] }>(
    `select u.id, u.email, u.name from users u
      where u.status = 'active' and u.id <> :actor
        and (u.id = :opener or u.id in (select f.user_id from ticket_followers f where f.tenant_id = :tenant and f.ticket_id = :ticket))
        and exists (select 1 from memberships m where m.tenant_id = :tenant and m.user_id = u.id and m.customer_id is not null)
        and not exists (select 1 from notification_settings s where s.user_id = u.id and s.kind = 'ticket_updates' and not s.enabled)
      order by u.email`,
    {
      actor: actor.userId,
      opener: ticket.opened_by ?? '00000000-0000-0000-0000-000000000000',
      tenant: ticket.tenant_id,
      ticket: ticket.id,
    },
  );
  return rows;
}

export function ticketMail(
  ticket: { id: string; number: string; subject: string; status: TicketStatus },
  change: { body: string | null; statusChanged: boolean; author: string; tenantName: string },
  person: Recipient,
  links: MailLinks,
): { subject: string; text: string } {
  const what = change.body
    ? change.statusChanged
      ? `New reply, now ${TICKET_STATUS_LABELS[ticket.status]}`
      : 'New reply'
    : `Status changed to ${TICKET_STATUS_LABELS[ticket.status]}`;
  const lines = [
    `Hello ${person.name},`,
    '',
    change.body
      ? `${change.author} of ${change.tenantName} replied to ticket #${ticket.number} "${ticket.subject}":`
      : `${change.author} of ${change.tenantName} changed the status of ticket #${ticket.number} "${ticket.subject}" to ${TICKET_STATUS_LABELS[ticket.status]}.`,
  ];
  if (change.body) lines.push('', ...change.body.split('\n').map((l) => `> ${l}`));
  if (change.body && change.statusChanged) lines.push('', `The ticket is now: ${TICKET_STATUS_LABELS[ticket.status]}.`);
  lines.push(
    '',
    `See the ticket and answer: ${links.baseUrl}/tickets/${ticket.id}`,
    '',
    `You get this mail because you opened or follow this ticket. To stop ticket mail: ${unsubscribeUrl(links, person.id, 'ticket_updates')}`,
  );
  return { subject: `[Ticket #${ticket.number}] ${what}: ${ticket.subject}`, text: lines.join('\n') };
}

async function mailTicketUpdate(
  trx: Trx,
  actor: Actor,
  ticket: TicketRow,
  change: { body: string | null; statusChanged: boolean },
  links: MailLinks,
): Promise<number> {
  const people = await recipientsOf(trx, actor, ticket);
  const author = actor.name;
  for (const person of people) {
    const mail = ticketMail(
      { ...ticket, number: String(ticket.number) },
      { ...change, author, tenantName: actor.tenantName },
      person,
      links,
    );
    await enqueueMail(trx, {
      tenantId: ticket.tenant_id,
      kind: 'ticket_update',
      to: person.email,
      userId: person.id,
      subject: mail.subject,
      text: mail.text,
      headers: unsubscribeHeaders(links, person.id, 'ticket_updates'),
    });
  }
  return people.length;
}
