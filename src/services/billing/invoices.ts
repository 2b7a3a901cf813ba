import type { Db, Trx } from '../../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { csvLine } from '../platform/csv.js';
import { findSummaryCustomer, type SummaryCustomer } from './summaries.js';
import { isUuid } from '../customers/rules.js';
import {
  canMove,
  CUSTOMER_VISIBLE_STATUSES,
  INVOICE_STATUS_LABELS,
  invoiceNumberLabel,
  isInvoiceStatus,
  type InvoiceStatus,
} from './invoice-rules.js';
import { toDecimalString } from './money.js';
import { postLedgerMovement } from './accounts.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { SUMMARY_PRODUCT_LABELS, type Granularity, type SummaryProduct } from './summary-rules.js';
import type { Day } from '../assets/subscription-rules.js';
import { english, msg, type Translator } from '../platform/index.js';

/** Invoices as staff and company admins read them, staff moving them on, and an invoice as CSV. */

export type InvoiceLine = {
  position: number;
  description: string;
  period_start: Day;
  period_end: Day;
  attempts: number;
  connected: number;
  billed_minutes: number;
  amount_minor: number;
};
export type Invoice = {
  id: string;
  customer_id: string;
  number: number;
  numberLabel: string;
  status: InvoiceStatus;
  statusLabel: string;
  currency: string;
  granularity: Granularity;
  product: SummaryProduct;
  productLabel: string;
  period_start: Day;
  period_end: Day;
  total_minor: number;
  created_at: Date;
  updated_at: Date;
  issued_at: Date | null;
  paid_at: Date | null;
  voided_at: Date | null;
};
export type InvoiceDetail = { invoice: Invoice; lines: InvoiceLine[]; customer: SummaryCustomer };

/** The columns an Invoice is read from, for the billing modules that read invoices. */
export const INVOICE_COLUMNS = [
  'id',
  'customer_id',
  'number',
  'status',
  'currency',
  'granularity',
  'product',
  'period_start',
  'period_end',
  'total_minor',
  'created_at',
  'updated_at',
  'issued_at',
  'paid_at',
  'voided_at',
];
export type InvoiceRow = Omit<
  Invoice,
  'numberLabel' | 'statusLabel' | 'productLabel' | 'product' | 'period_start' | 'period_end' | 'total_minor'
> & {
  product: string | null;
  period_start: Date | string;
  period_end: Date | string;
  total_minor: string | number;
};

/** A date column as the calendar day it holds. */
export const invoiceDay = (v: Date | string): Day =>
  v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10);

/** An invoices row as the pages and the API show it. */
export function invoiceOf(r: InvoiceRow): Invoice {
  const product = (r.product ?? 'all') as SummaryProduct;
  return {
    ...r,
    number: Number(r.number),
    numberLabel: invoiceNumberLabel(Number(r.number)),
    statusLabel: INVOICE_STATUS_LABELS[r.status],
    product,
    productLabel: SUMMARY_PRODUCT_LABELS[product],
    period_start: invoiceDay(r.period_start),
    period_end: invoiceDay(r.period_end),
    total_minor: Number(r.total_minor),
  };
}

async function findInvoice(
  trx: Trx,
  tenantId: string,
  customerId: string,
  invoiceId: string,
  statuses?: InvoiceStatus[],
): Promise<Invoice> {
  if (!isUuid(invoiceId)) throw new NotFoundError();
  const q = trx('invoices').where({ tenant_id: tenantId, customer_id: customerId, id: invoiceId });
  if (statuses) q.whereIn('status', statuses);
  const row = await q.first<InvoiceRow | undefined>(INVOICE_COLUMNS);
  if (!row) throw new NotFoundError();
  return invoiceOf(row);
}

async function detailOf(
  trx: Trx,
  tenantId: string,
  customer: SummaryCustomer,
  invoice: Invoice,
): Promise<InvoiceDetail> {
  const lines = await trx('invoice_lines')
    .where({ tenant_id: tenantId, invoice_id: invoice.id })
    .orderBy('position')
    .select<(Omit<InvoiceLine, 'period_start' | 'period_end'> & { period_start: Date; period_end: Date })[]>(
      'position',
      'description',
      'period_start',
      'period_end',
      'attempts',
      'connected',
      'billed_minutes',
      'amount_minor',
    );
  return {
    invoice,
    customer,
    lines: lines.map((l) => ({
      ...l,
      period_start: invoiceDay(l.period_start),
      period_end: invoiceDay(l.period_end),
      attempts: Number(l.attempts),
      connected: Number(l.connected),
      billed_minutes: Number(l.billed_minutes),
      amount_minor: Number(l.amount_minor),
    })),
  };
}

const listOf = async (trx: Trx, tenantId: string, customerId: string, statuses?: InvoiceStatus[]) => {
  const q = trx('invoices')
    .where({ tenant_id: tenantId, customer_id: customerId })
    .orderBy('number', 'desc')
    .limit(500);
  if (statuses) q.whereIn('status', statuses);
  return ((await q.select(INVOICE_COLUMNS)) as InvoiceRow[]).map(invoiceOf);
};

/** Staff: a customer's invoices, newest first. */
export async function listCustomerInvoices(
  db: Db,
  actor: Actor,
  customerId: string,
): Promise<{ customer: SummaryCustomer; invoices: Invoice[] }> {
  authorize(actor, 'invoice.manage');
  return asActor(db, actor, async (trx) => {
    const customer = await findSummaryCustomer(trx, actor.tenantId, customerId);
    return { customer, invoices: await listOf(trx, actor.tenantId, customer.id) };
  });
}

export async function getCustomerInvoice(
  db: Db,
  actor: Actor,
  customerId: string,
  invoiceId: string,
): Promise<InvoiceDetail> {
  authorize(actor, 'invoice.manage');
  return asActor(db, actor, async (trx) => {
    const customer = await findSummaryCustomer(trx, actor.tenantId, customerId);
    return detailOf(trx, actor.tenantId, customer, await findInvoice(trx, actor.tenantId, customer.id, invoiceId));
  });
}

/** A company admin: their own account's invoices once issued. */
export async function listOwnInvoices(
  db: Db,
  actor: Actor,
): Promise<{ customer: SummaryCustomer; invoices: Invoice[] }> {
  authorize(actor, 'invoice.own');
  if (!actor.customerId) throw new NotFoundError();
  return asActor(db, actor, async (trx) => {
    const customer = await findSummaryCustomer(trx, actor.tenantId, actor.customerId!);
    return { customer, invoices: await listOf(trx, actor.tenantId, customer.id, CUSTOMER_VISIBLE_STATUSES) };
  });
}

export async function getOwnInvoice(db: Db, actor: Actor, invoiceId: string): Promise<InvoiceDetail> {
  authorize(actor, 'invoice.own');
  if (!actor.customerId) throw new NotFoundError();
  return asActor(db, actor, async (trx) => {
    const customer = await findSummaryCustomer(trx, actor.tenantId, actor.customerId!);
    return detailOf(
      trx,
      actor.tenantId,
      customer,
      await findInvoice(trx, actor.tenantId, customer.id, invoiceId, CUSTOMER_VISIBLE_STATUSES),
    );
  });
}

/**
 * Staff move an invoice on: issue a draft, mark an issued one paid, or void it (which frees its
 * usage for another invoice). A postpaid customer is charged when an invoice is issued and credited
 * back when an issued (or paid) one is voided; a prepaid customer's usage was charged as it arrived,
 * so its invoices are statements and move nothing. Either way an invoice charges at most once: the
 * status row is locked, and issue happens once in an invoice's life.
 */
export async function setInvoiceStatus(
  db: Db,
  actor: Actor,
  customerId: string,
  invoiceId: string,
  status: unknown,
  now: Date,
  opts: { confirmed?: boolean } = {},
): Promise<Invoice> {
  authorize(actor, 'invoice.manage');
  return asActor(db, actor, async (trx) => {
    const customer = await findSummaryCustomer(trx, actor.tenantId, customerId);
    const before = await findInvoice(trx, actor.tenantId, customer.id, invoiceId);
    if (!isInvoiceStatus(status)) throw new ValidationError({ status: msg('Choose one of the offered actions.') });
    // voiding cannot be undone: the form asks for a tick first
    if (status === 'void' && !opts.confirmed)
      throw new ValidationError({
        status: msg('Tick "Void {number} for good" to void it.', { number: before.numberLabel }),
      });
    // locked, so two staff moving the same invoice at once cannot both pass the check
    const current = (await trx('invoices')
      .where({ tenant_id: actor.tenantId, id: before.id })
      .forUpdate()
      .first<{ status: InvoiceStatus }>('status'))!.status;
    if (!canMove(current, status))
      throw new ConflictError(
        '{from, select, draft {A draft} issued {An issued} paid {A paid} other {A void}} invoice cannot become {to, select, draft {draft} issued {issued} paid {paid} other {void}}.',
      ).withValues({ from: current, to: status });
    const stamp =
      status === 'issued'
        ? { issued_at: now }
        : status === 'paid'
          ? { paid_at: now }
          : status === 'void'
            ? { voided_at: now }
            : {};
    const [row] = await trx('invoices')
      .where({ tenant_id: actor.tenantId, id: before.id })
      .update({ status, updated_at: now, ...stamp })
      .returning<InvoiceRow[]>(INVOICE_COLUMNS);
    if (status === 'void')
      await trx('invoiced_usage_days').where({ tenant_id: actor.tenantId, invoice_id: before.id }).delete();
    const after = invoiceOf(row!);
    const charged = current === 'issued' || current === 'paid';
    if ((status === 'issued' || (status === 'void' && charged)) && (await isPostpaid(trx, actor, customer.id)))
      await postLedgerMovement(trx, actor, customer.id, {
        kind: 'invoice',
        amountMinor: status === 'issued' ? -BigInt(after.total_minor) : BigInt(after.total_minor),
        reference: status === 'issued' ? after.numberLabel : `${after.numberLabel} voided`,
      });
    await audit(trx, actor, {
      entityType: 'invoice',
      entityId: after.id,
      action: `invoice.${status}`,
      customerId: customer.id,
      before: { number: before.numberLabel, status: current },
      after: { number: after.numberLabel, status },
    });
    return after;
  });
}

const isPostpaid = async (trx: Trx, actor: Actor, customerId: string) =>
  (await trx('customers')
    .where({ tenant_id: actor.tenantId, id: customerId })
    .first<{ billing_model: string }>('billing_model'))!.billing_model === 'postpaid';

/** An invoice as CSV: a head of what it is, then its lines (money as decimals in its currency). */
export function invoiceCsv(d: InvoiceDetail, tr: Translator = english): { filename: string; body: string } {
  const money = (minor: number) => Number(toDecimalString(minor, d.invoice.currency));
  const body =
    csvLine(
      ['Invoice', 'Customer', 'Account ID', 'Status', 'Period start', 'Period end', 'Currency', 'Total'].map((h) =>
        tr.t(h),
      ),
    ) +
    csvLine([
      d.invoice.numberLabel,
      d.customer.title,
      d.customer.account_id,
      tr.t(d.invoice.statusLabel),
      d.invoice.period_start,
      d.invoice.period_end,
      d.invoice.currency,
      money(d.invoice.total_minor),
    ]) +
    '\n' +
    csvLine([
      tr.t('Line'),
      tr.t('Description'),
      tr.t('Period start'),
      tr.t('Period end'),
      tr.t('Attempts'),
      tr.t('Connected'),
      tr.t('Billed minutes'),
      tr.t('Amount ({currency})', { currency: d.invoice.currency }),
    ]) +
    d.lines
      .map((l) =>
        csvLine([
          l.position,
          l.description,
          l.period_start,
          l.period_end,
          l.attempts,
          l.connected,
          l.billed_minutes,
          money(l.amount_minor),
        ]),
      )
      .join('');
  return { filename: `${d.invoice.numberLabel}.csv`, body };
}
