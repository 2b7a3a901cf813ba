import { describe, expect, it } from 'vitest';
import {
  acceptsComments,
  messageProblem,
  newTicketProblems,
  statusAfterCustomerComment,
  SUBJECT_MAX,
} from '../../src/services/tickets/rules.js';
import { english } from '../../src/services/platform/i18n.js';

describe('ticket rules', () => {
  it('opens a ticket again when the customer writes on one waiting for them or resolved', () => {
    expect(statusAfterCustomerComment('waiting_on_customer')).toBe('open');
    expect(statusAfterCustomerComment('resolved')).toBe('open');
    expect(statusAfterCustomerComment('open')).toBe('open');
  });

  it('takes no comments on a closed ticket', () => {
    expect(acceptsComments('closed')).toBe(false);
    expect(acceptsComments('resolved')).toBe(true);
  });

  it('names each missing or too long field of a new ticket', () => {
    expect(newTicketProblems({ subject: ' ', category: 'nonsense', message: '' })).toEqual({
      subject: 'Give the ticket a subject.',
      category: 'Choose what the ticket is about.',
      message: 'Write a message.',
    });
    expect(
      newTicketProblems({ subject: 'x'.repeat(SUBJECT_MAX + 1), category: 'billing', message: 'hi' }),
    ).toHaveProperty('subject');
    expect(newTicketProblems({ subject: 'GPS stopped', category: 'technical', message: 'Since Monday.' })).toEqual({});
  });

  it('refuses a message longer than 10,000 characters', () => {
    expect(english.t(messageProblem('x'.repeat(10_001)))).toMatch(/at most 10,000/);
  });
});
