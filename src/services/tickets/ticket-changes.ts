import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { findAssetInScope } from '../assets/index.js';
import type { MailLinks } from '../mail/index.js';
import { type Actor, asActor, authorize, isStaff } from '../access/index.js';
import {
  acceptsComments,
  isTicketStatus,
  messageProblem,
  newTicketProblems,
  statusAfterCustomerComment,
  type TicketStatus,
} from './rules.js';
import { findTicketInScope, type TicketRow } from './ticket-page.js';
import { mailTicketUpdate } from './ticket-mail.js';
import { msg } from '../platform/index.js';

/**
 * Changes to tickets: customers open them and comment, staff reply and move the status (mailing the
 * opener and followers through the outbox, in the same transaction), company admins follow.
 */

const actorLabel = (actor: Actor) => `${actor.name} <${actor.email}>`;

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
    throw new ValidationError({ status: msg('Choose a status from the list.') });
  if (body) {
    const problem = messageProblem(body);
    if (problem) throw new ValidationError({ body: problem });
  }
  return asActor(db, actor, async (trx) => {
    const ticket = await findTicketInScope(trx, actor, ticketId, { forUpdate: true });
    const status = (input.status || ticket.status) as TicketStatus;
    if (!body && status === ticket.status)
      throw new ValidationError({ body: msg('Write a reply or choose a new status.') });
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
