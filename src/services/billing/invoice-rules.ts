import { msg } from '../platform/i18n.js';

/** The life of an invoice, without the database: its statuses, the moves between them, its number as shown. */

export const INVOICE_STATUSES = ['draft', 'issued', 'paid', 'void'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];
export const INVOICE_STATUS_LABELS: Record<InvoiceStatus, string> = {
  draft: msg('Draft'),
  issued: msg('Issued'),
  paid: msg('Paid'),
  void: msg('Void'),
};

/** A draft is issued or voided; an issued invoice is paid or voided; paid and void are final. */
const NEXT: Record<InvoiceStatus, InvoiceStatus[]> = {
  draft: ['issued', 'void'],
  issued: ['paid', 'void'],
  paid: [],
  void: [],
};
export const INVOICE_ACTION_LABELS: Record<InvoiceStatus, string> = {
  draft: msg('Back to draft'),
  issued: msg('Issue'),
  paid: msg('Mark paid'),
  void: msg('Void'),
};

export function nextStatuses(status: InvoiceStatus): InvoiceStatus[] {
  return NEXT[status];
}

export function canMove(from: InvoiceStatus, to: InvoiceStatus): boolean {
  return NEXT[from].includes(to);
}

/** What a customer sees: invoices once issued (paid ones were issued); drafts and voided ones stay with the staff. */
export const CUSTOMER_VISIBLE_STATUSES: InvoiceStatus[] = ['issued', 'paid'];

/** "INV-000042": the tenant's number, padded so that lists sort as text too. */
export function invoiceNumberLabel(n: number): string {
  return `INV-${String(n).padStart(6, '0')}`;
}

export function isInvoiceStatus(v: unknown): v is InvoiceStatus {
  return (INVOICE_STATUSES as readonly unknown[]).includes(v);
}
