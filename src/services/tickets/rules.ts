/** The rules of tickets that need no database: statuses, who moves them where, and what a form must hold. */

export const TICKET_STATUSES = ['open', 'waiting_on_customer', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export const TICKET_STATUS_LABELS: Record<TicketStatus, string> = {
  open: 'Open',
  waiting_on_customer: 'Waiting on customer',
  resolved: 'Resolved',
  closed: 'Closed',
};

export const TICKET_CATEGORIES = ['technical', 'billing', 'subscription', 'other'] as const;
export type TicketCategory = (typeof TICKET_CATEGORIES)[number];
export const TICKET_CATEGORY_LABELS: Record<TicketCategory, string> = {
  technical: 'Technical problem',
  billing: 'Billing',
  subscription: 'Subscription or contract',
  other: 'Something else',
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

export function messageProblem(message: string): string | null {
  const text = message.trim();
  if (!text) return 'Write a message.';
  if (text.length > MESSAGE_MAX) return `A message has at most ${MESSAGE_MAX.toLocaleString('en-GB')} characters.`;
  return null;
}

export type NewTicketInput = { subject: string; category: string; message: string };

/** The messages per field for a new ticket's form; empty when it may be opened. */
export function newTicketProblems(input: NewTicketInput): Record<string, string> {
  const errors: Record<string, string> = {};
  const subject = input.subject.trim();
  if (!subject) errors.subject = 'Give the ticket a subject.';
  else if (subject.length > SUBJECT_MAX) errors.subject = `A subject has at most ${SUBJECT_MAX} characters.`;
  if (!isTicketCategory(input.category)) errors.category = 'Choose what the ticket is about.';
  const message = messageProblem(input.message);
  if (message) errors.message = message;
  return errors;
}
