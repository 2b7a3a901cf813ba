import type { Db, Trx } from '../../db/index.js';
import { ConflictError, ValidationError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { findSummaryCustomer } from './summaries.js';
import { invoiceNumberLabel } from './invoice-rules.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import {
  daysOf,
  periodDays,
  periodEnded,
  periodFrom,
  periodLabel,
  productsOf,
  SUMMARY_PRODUCT_LABELS,
  SUMMARY_PRODUCTS,
  type Granularity,
  type SummaryProduct,
} from './summary-rules.js';
import { todayIn, type Day } from '../assets/subscription-rules.js';
import { INVOICE_COLUMNS, invoiceDay, invoiceOf, type Invoice, type InvoiceLine, type InvoiceRow } from './invoices.js';
import { msg } from '../platform/index.js';

/** Generating an invoice from ticked rows of a customer's Daily or Monthly summary. */

export type GenerateInput = { granularity?: unknown; product?: unknown; periods?: unknown };
/** More rows than a year of days at once is a mistake, not an invoice */
const MAX_LINES = 400;

/** What the form sent, checked: a granularity, a product filter, and at least one period that is over. */
function checkInput(
  input: GenerateInput,
  today: Day,
): { granularity: Granularity; product: SummaryProduct; periods: Day[] } {
  const granularity = input.granularity === 'monthly' ? 'monthly' : input.granularity === 'daily' ? 'daily' : null;
  if (!granularity)
    throw new ValidationError({ periods: msg('Invoices are made from rows of the Daily or Monthly summary.') });
  const product = (SUMMARY_PRODUCTS as readonly unknown[]).includes(input.product ?? 'all')
    ? ((input.product ?? 'all') as SummaryProduct)
    : null;
  if (!product) throw new ValidationError({ periods: msg('Choose one of the listed products.') });
  const raw = (
    Array.isArray(input.periods)
      ? input.periods
      : input.periods === undefined || input.periods === ''
        ? []
        : [input.periods]
  ).map(String);
  if (raw.length === 0) throw new ValidationError({ periods: msg('Tick at least one row to invoice.') });
  if (raw.length > MAX_LINES)
    throw new ValidationError({ periods: msg('At most {max} rows fit on one invoice.', { max: String(MAX_LINES) }) });
  const periods = [...new Set(raw.map((v) => periodFrom(granularity, v)))];
  if (periods.some((p) => p === null))
    throw new ValidationError({ periods: msg('A ticked row is not a period of this summary.') });
  const days = (periods as Day[]).sort();
  const open = days.find((p) => !periodEnded(granularity, p, today));
  if (open)
    throw new ValidationError({
      periods: msg('{period} is not over yet (UTC): it can be invoiced once it has ended.', {
        period: periodLabel(granularity, open),
      }),
    });
  return { granularity, product, periods: days };
}

/** One line per period: the rollups of its days and products, summed. */
async function linesFor(
  trx: Trx,
  tenantId: string,
  customerId: string,
  granularity: Granularity,
  product: SummaryProduct,
  periods: Day[],
): Promise<InvoiceLine[]> {
  const step = granularity === 'monthly' ? '1 month' : '1 day';
  const { rows } = await trx.raw<{
    rows: { start: Date; attempts: string; connected: string; billed_minutes: string; amount_minor: string }[];
  }>(
    `select p.start, coalesce(sum(h.attempts), 0) as attempts, coalesce(sum(h.connected), 0) as connected,
       coalesce(sum(h.billed_minutes), 0) as billed_minutes, coalesce(sum(h.charge_minor), 0) as amount_minor
     from unnest(?::date[]) as p(start)
     left join usage_daily h on h.tenant_id = ? and h.customer_id = ? and h.product = any(?::text[])
       and h.day >= p.start and h.day < p.start + interval '${step}'
     group by p.start order by p.start`,
    [periods, tenantId, customerId, productsOf(product)],
  );
  const what = product === 'all' ? 'Usage' : SUMMARY_PRODUCT_LABELS[product];
  return rows.map((r, i) => {
    const start = invoiceDay(r.start);
    const { end } = periodDays(granularity, start);
    return {
      position: i + 1,
      description: `${what}, ${periodLabel(granularity, start)} (UTC)`,
      period_start: start,
      period_end: end,
      attempts: Number(r.attempts),
      connected: Number(r.connected),
      billed_minutes: Number(r.billed_minutes),
      amount_minor: Number(r.amount_minor),
    };
  });
}

/**
 * The tenant's next number: the counter row stays locked until this transaction ends, and a
 * rollback gives the number back.
 */
async function nextInvoiceNumber(trx: Trx, tenantId: string): Promise<number> {
  const { rows } = await trx.raw<{ rows: { last_number: number }[] }>(
    `insert into invoice_counters as c (tenant_id, last_number) values (?, 1)
     on conflict (tenant_id) do update set last_number = c.last_number + 1
     returning last_number`,
    [tenantId],
  );
  return rows[0]!.last_number;
}

/** Numbers of the invoices already covering any of these days and products, to say which ones. */
async function coveringInvoices(
  trx: Trx,
  tenantId: string,
  customerId: string,
  products: string[],
  days: Day[],
): Promise<number[]> {
  const rows: { number: number }[] = await trx('invoiced_usage_days as d')
    .join('invoices as i', function () {
      this.on('i.tenant_id', 'd.tenant_id').andOn('i.id', 'd.invoice_id');
    })
    .where({ 'd.tenant_id': tenantId, 'd.customer_id': customerId })
    .whereIn('d.product', products)
    .whereRaw('d.day = any(?::date[])', [days])
    .distinct('i.number')
    .orderBy('i.number');
  return rows.map((r) => r.number);
}

const alreadyInvoiced = (numbers: number[]) => {
  const which = numbers.length ? ` (${numbers.map(invoiceNumberLabel).join(', ')})` : '';
  return new ConflictError(
    'Some of this usage is already invoiced{which}. Void that invoice first to invoice the period again.',
  ).withValues({ which });
};

type Checked = ReturnType<typeof checkInput>;
/** Who an invoice is written by: staff, or the system. */
export type InvoiceAuthor = Actor | { system: string; tenantId: string };

/** Staff tick summary rows and generate a draft invoice from them. */
export async function generateInvoice(
  db: Db,
  actor: Actor,
  customerId: string,
  input: GenerateInput,
  now: Date,
): Promise<Invoice> {
  authorize(actor, 'invoice.manage');
  const checked = checkInput(input, todayIn('UTC', now));
  try {
    return await asActor(db, actor, (trx) => insertInvoice(trx, actor, customerId, checked, now));
  } catch (err) {
    // two staff at once: the later one waited for the counter, then met the first one's claims
    if (
      (err as { code?: string }).code === '23505' &&
      /invoiced_usage_days/.test((err as { constraint?: string }).constraint ?? '')
    )
      throw alreadyInvoiced([]);
    throw err;
  }
}

/**
 * An invoice written by a person or by the system (the demo data), from unchecked input: the same
 * checks and the same writing as staff's, in the caller's transaction.
 */
export async function writeInvoice(
  trx: Trx,
  who: InvoiceAuthor,
  customerId: string,
  input: GenerateInput,
  now: Date,
): Promise<Invoice> {
  return insertInvoice(trx, who, customerId, checkInput(input, todayIn('UTC', now)), now);
}

/**
 * The lines are a snapshot of the rollups when the invoice is generated; the number comes from the
 * tenant's counter row, locked until the transaction ends, so numbers have no gaps; every day and
 * product the invoice covers is claimed in invoiced_usage_days, whose key refuses a second invoice
 * for the same usage.
 */
async function insertInvoice(
  trx: Trx,
  who: InvoiceAuthor,
  customerId: string,
  { granularity, product, periods }: Checked,
  now: Date,
): Promise<Invoice> {
  const tenantId = who.tenantId;
  const products = productsOf(product);
  const days = periods.flatMap((p) => {
    const { start, end } = periodDays(granularity, p);
    return daysOf(start, end);
  });
  const customer = await findSummaryCustomer(trx, tenantId, customerId);
  const lines = await linesFor(trx, tenantId, customer.id, granularity, product, periods);
  const covering = await coveringInvoices(trx, tenantId, customer.id, products, days);
  if (covering.length) throw alreadyInvoiced(covering);
  // the number last, so the counter row is locked for as short a time as possible
  const number = await nextInvoiceNumber(trx, tenantId);
  const total = lines.reduce((n, l) => n + l.amount_minor, 0);
  const [row] = await trx('invoices')
    .insert({
      tenant_id: tenantId,
      customer_id: customer.id,
      number,
      status: 'draft',
      currency: customer.currency,
      granularity,
      product: product === 'all' ? null : product,
      period_start: periods[0],
      period_end: lines[lines.length - 1]!.period_end,
      total_minor: total,
      created_by: 'system' in who ? null : who.userId,
      created_at: now,
      updated_at: now,
    })
    .returning<InvoiceRow[]>(INVOICE_COLUMNS);
  const invoice = invoiceOf(row!);
  await trx('invoice_lines').insert(lines.map((l) => ({ tenant_id: tenantId, invoice_id: invoice.id, ...l })));
  // the claims: their primary key refuses the same day and product on a second invoice
  await trx.raw(
    `insert into invoiced_usage_days (tenant_id, customer_id, product, day, invoice_id)
     select ?, ?, p.product, d.day, ? from unnest(?::text[]) as p(product) cross join unnest(?::date[]) as d(day)`,
    [tenantId, customer.id, invoice.id, products, days],
  );
  await audit(trx, who, {
    entityType: 'invoice',
    entityId: invoice.id,
    action: 'invoice.generated',
    customerId: customer.id,
    after: {
      number: invoice.numberLabel,
      status: invoice.status,
      currency: invoice.currency,
      total_minor: total,
      period_start: invoice.period_start,
      period_end: invoice.period_end,
      product,
      lines: lines.length,
    },
  });
  return invoice;
}
