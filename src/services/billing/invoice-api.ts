import type { Db, Trx } from '../../db/index.js';
import { isUuid } from '../customers/rules.js';
import { decodeCursor, encodeCursor, isCursorTime } from '../platform/paging.js';
import type { InvoiceStatus } from './invoice-rules.js';
import { inTenant } from '../access/index.js';
import type { Granularity, SummaryProduct } from './summary-rules.js';
import type { Day } from '../assets/subscription-rules.js';
import { INVOICE_COLUMNS, invoiceDay, invoiceOf, type InvoiceLine, type InvoiceRow } from './invoices.js';

/** Invoices for billing systems (GET /api/v1/invoices): the tenant's invoices in the order they last changed. */

export type ApiInvoiceQuery = {
  status: InvoiceStatus | null;
  updatedSince: Date | null;
  after: { updatedAt: string; id: string } | null;
  limit: number;
};
export type ApiInvoice = {
  id: string;
  number: number;
  number_label: string;
  status: InvoiceStatus;
  currency: string;
  customer: { id: string; account_id: string; title: string };
  usage: { granularity: Granularity; product: SummaryProduct };
  period_start: Day;
  period_end: Day;
  total_minor: number;
  created_at: string;
  updated_at: string;
  issued_at: string | null;
  paid_at: string | null;
  voided_at: string | null;
  lines: {
    position: number;
    description: string;
    period_start: Day;
    period_end: Day;
    attempts: number;
    connected: number;
    billed_minutes: number;
    amount_minor: number;
  }[];
};

/**
 * The paging position: updated_at as PostgreSQL writes it (microseconds kept) and the id. Billing
 * systems hold it between polls, so its form stays: base64url of the JSON [updated_at, id].
 */
export function encodeInvoiceCursor(c: { updatedAt: string; id: string }): string {
  return encodeCursor([c.updatedAt, c.id]);
}

function readInvoiceCursor(values: unknown[]): { updatedAt: string; id: string } | null {
  const [updatedAt, id] = values;
  return values.length === 2 && isCursorTime(updatedAt) && isUuid(id) ? { updatedAt, id } : null;
}

/** A cursor a client sent back, or null when it is not one of ours. */
export function decodeInvoiceCursor(value: string): { updatedAt: string; id: string } | null {
  return decodeCursor(value, readInvoiceCursor, 200);
}

/**
 * A page of the tenant's invoices for a billing system, in the order they last changed (updated_at,
 * then id), by keyset: polling with the last page's cursor returns what changed since, and a change
 * moves an invoice to the end. Drafts included (filter with status); each with its lines.
 */
export async function listInvoicesForApi(
  db: Db,
  tenantId: string,
  q: ApiInvoiceQuery,
): Promise<{ invoices: ApiInvoice[]; next: string | null }> {
  return inTenant(db, tenantId, (trx) => apiPage(trx, tenantId, q));
}

async function apiPage(
  trx: Trx,
  tenantId: string,
  q: ApiInvoiceQuery,
): Promise<{ invoices: ApiInvoice[]; next: string | null }> {
  const page = trx('invoices as i')
    .join('customers as c', function () {
      this.on('c.tenant_id', 'i.tenant_id').andOn('c.id', 'i.customer_id');
    })
    .where('i.tenant_id', tenantId)
    .select(INVOICE_COLUMNS.map((col) => `i.${col}`))
    .select(
      'c.account_id',
      'c.title',
      trx.raw('to_char(i.updated_at at time zone \'UTC\', \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') as cursor_time'),
    )
    .orderBy([{ column: 'i.updated_at' }, { column: 'i.id' }])
    .limit(q.limit + 1);
  if (q.status) page.where('i.status', q.status);
  if (q.updatedSince) page.where('i.updated_at', '>=', q.updatedSince);
  if (q.after) page.whereRaw('(i.updated_at, i.id) > (?::timestamptz, ?::uuid)', [q.after.updatedAt, q.after.id]);
  const rows = (await page) as (InvoiceRow & { account_id: string; title: string; cursor_time: string })[];
  const more = rows.length > q.limit;
  const shown = rows.slice(0, q.limit);
  const lines = shown.length
    ? await trx('invoice_lines')
        .where('tenant_id', tenantId)
        .whereIn(
          'invoice_id',
          shown.map((r) => r.id),
        )
        .orderBy(['invoice_id', 'position'])
        .select<(InvoiceLine & { invoice_id: string; period_start: Date | string; period_end: Date | string })[]>(
          'invoice_id',
          'position',
          'description',
          'period_start',
          'period_end',
          'attempts',
          'connected',
          'billed_minutes',
          'amount_minor',
        )
    : [];
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  const invoices = shown.map((r) => {
    const i = invoiceOf(r);
    return {
      id: i.id,
      number: i.number,
      number_label: i.numberLabel,
      status: i.status,
      currency: i.currency,
      customer: { id: i.customer_id, account_id: r.account_id, title: r.title },
      usage: { granularity: i.granularity, product: i.product },
      period_start: i.period_start,
      period_end: i.period_end,
      total_minor: i.total_minor,
      created_at: i.created_at.toISOString(),
      updated_at: i.updated_at.toISOString(),
      issued_at: iso(i.issued_at),
      paid_at: iso(i.paid_at),
      voided_at: iso(i.voided_at),
      lines: lines
        .filter((l) => l.invoice_id === i.id)
        .map((l) => ({
          position: l.position,
          description: l.description,
          period_start: invoiceDay(l.period_start),
          period_end: invoiceDay(l.period_end),
          attempts: Number(l.attempts),
          connected: Number(l.connected),
          billed_minutes: Number(l.billed_minutes),
          amount_minor: Number(l.amount_minor),
        })),
    };
  });
  const last = shown[shown.length - 1];
  return { invoices, next: more && last ? encodeInvoiceCursor({ updatedAt: last.cursor_time, id: last.id }) : null };
}
