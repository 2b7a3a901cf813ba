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
import { type Actor, asActor, authorize, inTenant } from '../access/index.js';
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

/**
 * Invoices made from ticked rows of a customer's Daily or Monthly summary. The lines are a snapshot
 * of the rollups when the invoice is generated; the number comes from the tenant's counter row,
 * locked until the transaction ends, so numbers have no gaps; every day and product the invoice
 * covers is claimed in invoiced_usage_days, whose key refuses a second invoice for the same usage.
 */

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

export type GenerateInput = { granularity?: unknown; product?: unknown; periods?: unknown };
/** More rows than a year of days at once is a mistake, not an invoice */
const MAX_LINES = 400;

const COLUMNS = [
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
type InvoiceRow = Omit<
  Invoice,
  'numberLabel' | 'statusLabel' | 'productLabel' | 'product' | 'period_start' | 'period_end' | 'total_minor'
> & {
  product: string | null;
  period_start: Date | string;
  period_end: Date | string;
  total_minor: string | number;
};

const dayText = (v: Date | string): Day => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10));

function invoiceOf(r: InvoiceRow): Invoice {
  const product = (r.product ?? 'all') as SummaryProduct;
  return {
    ...r,
    number: Number(r.number),
    numberLabel: invoiceNumberLabel(Number(r.number)),
    statusLabel: INVOICE_STATUS_LABELS[r.status],
    product,
    productLabel: SUMMARY_PRODUCT_LABELS[product],
    period_start: dayText(r.period_start),
    period_end: dayText(r.period_end),
    total_minor: Number(r.total_minor),
  };
}

/** What the form sent, checked: a granularity, a product filter, and at least one period that is over. */
function checkInput(
  input: GenerateInput,
  today: Day,
): { granularity: Granularity; product: SummaryProduct; periods: Day[] } {
  const granularity = input.granularity === 'monthly' ? 'monthly' : input.granularity === 'daily' ? 'daily' : null;
  if (!granularity)
    throw new ValidationError({ periods: 'Invoices are made from rows of the Daily or Monthly summary.' });
  const product = (SUMMARY_PRODUCTS as readonly unknown[]).includes(input.product ?? 'all')
    ? ((input.product ?? 'all') as SummaryProduct)
    : null;
  if (!product) throw new ValidationError({ periods: 'Choose one of the listed products.' });
  const raw = (
    Array.isArray(input.periods)
      ? input.periods
      : input.periods === undefined || input.periods === ''
        ? []
        : [input.periods]
  ).map(String);
  if (raw.length === 0) throw new ValidationError({ periods: 'Tick at least one row to invoice.' });
  if (raw.length > MAX_LINES) throw new ValidationError({ periods: `At most ${MAX_LINES} rows fit on one invoice.` });
  const periods = [...new Set(raw.map((v) => periodFrom(granularity, v)))];
  if (periods.some((p) => p === null))
    throw new ValidationError({ periods: 'A ticked row is not a period of this summary.' });
  const days = (periods as Day[]).sort();
  const open = days.find((p) => !periodEnded(granularity, p, today));
  if (open)
    throw new ValidationError({
      periods: `${periodLabel(granularity, open)} is not over yet (UTC): it can be invoiced once it has ended.`,
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
    const start = dayText(r.start);
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

/** The tenant's next number: the counter row stays locked until this transaction ends, and a rollback gives the number back. */
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

const alreadyInvoiced = (numbers: number[]) =>
  new ConflictError(
    `Some of this usage is already invoiced${numbers.length ? ` (${numbers.map(invoiceNumberLabel).join(', ')})` : ''}. Void that invoice first to invoice the period again.`,
  );

type Checked = ReturnType<typeof checkInput>;
type Author = Actor | { system: string; tenantId: string };

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
    return await asActor(db, actor, (trx) => writeInvoice(trx, actor, customerId, checked, now));
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

/** The demo's invoice: the same writing as staff's, by the system. */
export async function writeDemoInvoice(
  trx: Trx,
  tenantId: string,
  customerId: string,
  input: GenerateInput,
  now: Date,
): Promise<Invoice> {
  return writeInvoice(trx, { system: 'demo data', tenantId }, customerId, checkInput(input, todayIn('UTC', now)), now);
}

async function writeInvoice(
  trx: Trx,
  who: Author,
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
    .returning<InvoiceRow[]>(COLUMNS);
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
  const row = await q.first<InvoiceRow | undefined>(COLUMNS);
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
      period_start: dayText(l.period_start),
      period_end: dayText(l.period_end),
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
  return ((await q.select(COLUMNS)) as InvoiceRow[]).map(invoiceOf);
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

/** Staff move an invoice on: issue a draft, mark an issued one paid, or void it (which frees its usage for another invoice). */
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
    if (!isInvoiceStatus(status)) throw new ValidationError({ status: 'Choose one of the offered actions.' });
    // voiding cannot be undone: the form asks for a tick first
    if (status === 'void' && !opts.confirmed)
      throw new ValidationError({ status: `Tick "Void ${before.numberLabel} for good" to void it.` });
    // locked, so two staff moving the same invoice at once cannot both pass the check
    const current = (await trx('invoices')
      .where({ tenant_id: actor.tenantId, id: before.id })
      .forUpdate()
      .first<{ status: InvoiceStatus }>('status'))!.status;
    if (!canMove(current, status))
      throw new ConflictError(
        `A ${INVOICE_STATUS_LABELS[current].toLowerCase()} invoice cannot become ${INVOICE_STATUS_LABELS[status].toLowerCase()}.`,
      );
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
      .returning<InvoiceRow[]>(COLUMNS);
    if (status === 'void')
      await trx('invoiced_usage_days').where({ tenant_id: actor.tenantId, invoice_id: before.id }).delete();
    const after = invoiceOf(row!);
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

/** An invoice as CSV: a head of what it is, then its lines (money as decimals in its currency). */
export function invoiceCsv(d: InvoiceDetail): { filename: string; body: string } {
  const money = (minor: number) => Number(toDecimalString(minor, d.invoice.currency));
  const body =
    csvLine(['Invoice', 'Customer', 'Account ID', 'Status', 'Period start', 'Period end', 'Currency', 'Total']) +
    csvLine([
      d.invoice.numberLabel,
      d.customer.title,
      d.customer.account_id,
      d.invoice.statusLabel,
      d.invoice.period_start,
      d.invoice.period_end,
      d.invoice.currency,
      money(d.invoice.total_minor),
    ]) +
    '\n' +
    csvLine([
      'Line',
      'Description',
      'Period start',
      'Period end',
      'Attempts',
      'Connected',
      'Billed minutes',
      `Amount (${d.invoice.currency})`,
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

// ---- billing systems: /api/v1/invoices ----

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

/** The paging position: updated_at as PostgreSQL writes it (microseconds kept) and the id. */
export function encodeInvoiceCursor(c: { updatedAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([c.updatedAt, c.id])).toString('base64url');
}

export function decodeInvoiceCursor(value: string): { updatedAt: string; id: string } | null {
  if (value.length > 200) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (
      !Array.isArray(v) ||
      v.length !== 2 ||
      typeof v[0] !== 'string' ||
      !isUuid(v[1]) ||
      Number.isNaN(Date.parse(v[0]))
    )
      return null;
    return { updatedAt: v[0], id: v[1] };
  } catch {
    return null;
  }
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
    .select(COLUMNS.map((col) => `i.${col}`))
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
          period_start: dayText(l.period_start),
          period_end: dayText(l.period_end),
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
