import { msg, type Msg } from '../platform/i18n.js';
/** The rules of tickets that need no database: statuses, who moves them where, and what a form must hold. */

export const TICKET_STATUSES = ['open', 'waiting_on_customer', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const TICKET_STATUS_LABELS: Record<TicketStatus, string> = {
  open: msg('Open'),
  waiting_on_customer: msg('Waiting on customer'),
  resolved: msg('Resolved'),
  closed: msg('Closed'),
};

export const TICKET_CATEGORIES = ['technical', 'billing', 'subscription', 'other'] as const;
export type TicketCategory = (typeof TICKET_CATEGORIES)[number];
export const TICKET_CATEGORY_LABELS: Record<TicketCategory, string> = {
  technical: msg('Technical problem'),
  billing: msg('Billing'),
  subscription: msg('Subscription or contract'),
  other: msg('Something else'),
};

export const SUBJECT_MAX = 200;
export const MESSAGE_MAX = 10_000;

export const isTicketStatus = (v: unknown): v is TicketStatus =>
  typeof v === 'string' && (TICKET_STATUSES as readonly string[]).includes(v);
export const isTicketCategory = (v: unknown): v is TicketCategory =>
  typeof v === 'string' && (TICKET_CATEGORIES as readonly string[]).includes(v);

/** A closed ticket is finished: nobody adds to it (a new problem gets a new ticket). */
export function acceptsComments(status: TicketStatus): boolean {
  return status !== 'closed';
}

/**
 * A customer writing on a ticket that waits for them, or that staff thought resolved, hands it back
 * to staff: it is open again. An open ticket stays open.
 */
export function statusAfterCustomerComment(status: TicketStatus): TicketStatus {
  return status === 'waiting_on_customer' || status === 'resolved' ? 'open' : status;
}

export function messageProblem(message: string): Msg | null {
  const text = message.trim();
  if (!text) return msg('Write a message.');
  if (text.length > MESSAGE_MAX) return msg('A message has at most {max, number} characters.', { max: MESSAGE_MAX });
  return null;
}

export type NewTicketInput = { subject: string; category: string; message: string };

/** The messages per field for a new ticket's form; empty when it may be opened. */
export function newTicketProblems(input: NewTicketInput): Record<string, Msg> {
  const errors: Record<string, Msg> = {};
  const subject = input.subject.trim();
  if (!subject) errors.subject = msg('Give the ticket a subject.');
  else if (subject.length > SUBJECT_MAX)
    errors.subject = msg('A subject has at most {max} characters.', { max: String(SUBJECT_MAX) });
  if (!isTicketCategory(input.category)) errors.category = msg('Choose what the ticket is about.');
  const message = messageProblem(input.message);
  if (message) errors.message = message;
  return errors;
}
