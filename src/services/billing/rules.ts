import { msg, type Msg } from '../platform/i18n.js';
import { parseAmount, toDecimalString } from './money.js';

/** The rules of a telecom account that need no database: what staff type, checked and turned into numbers. */

export const MOVEMENT_KINDS = ['payment', 'credit_note'] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];
export const LEDGER_KIND_LABELS: Record<string, Msg> = {
  payment: msg('Payment'),
  credit_note: msg('Credit note'),
  debit_limit: msg('Debit limit changed'),
  invoice: msg('Invoice'),
  adjustment: msg('Adjustment'),
  usage: msg('Usage charges'),
};

/**
 * How a customer pays: prepaid accounts are charged as priced usage arrives (one 'usage' movement
 * per batch, posted by the database with the records) and their invoices are statements; postpaid
 * accounts are charged when an invoice is issued, and credited back when an issued one is voided.
 */
export const BILLING_MODELS = ['prepaid', 'postpaid'] as const;
export type BillingModel = (typeof BILLING_MODELS)[number];
export const BILLING_MODEL_LABELS: Record<BillingModel, string> = {
  prepaid: msg('Prepaid: usage is charged as it arrives; invoices are statements'),
  postpaid: msg('Postpaid: charged when an invoice is issued'),
};
export const isBillingModel = (v: unknown): v is BillingModel => (BILLING_MODELS as readonly unknown[]).includes(v);

/**
 * Over limit: the account owes money and the balance has used up the debit limit (balance plus
 * limit at or below zero). An account that owes nothing is never over limit, whatever its limit.
 */
export function isOverLimit(a: { balance_minor: number | string; debit_limit_minor: number | string }): boolean {
  const balance = BigInt(a.balance_minor);
  return balance < 0n && balance + BigInt(a.debit_limit_minor) <= 0n;
}
/** isOverLimit in SQL, over a customers row `c`. */
export const OVER_LIMIT_SQL = '(c.balance_minor < 0 and c.balance_minor + c.debit_limit_minor <= 0)';

/** The largest amount one movement may carry: far above any bill, far below bigint's end. */
const MAX_MINOR = 10n ** 13n;

export type MovementForm = { kind: string; amount: string; reference: string };
export type CheckedMovement = { kind: MovementKind; amountMinor: bigint; reference: string | null };

/** A payment or a credit note: a positive amount of the account's currency, and an optional reference. */
export function checkMovement(
  form: MovementForm,
  currency: string,
): { value?: CheckedMovement; errors: Record<string, Msg> } {
  const errors: Record<string, Msg> = {};
  const kind = (MOVEMENT_KINDS as readonly string[]).includes(form.kind) ? (form.kind as MovementKind) : null;
  if (!kind) errors.kind = msg('Choose a payment or a credit note.');
  const amount = parseAmount(form.amount, currency);
  if (!form.amount.trim()) errors.amount = msg('Enter the amount in {currency}.', { currency });
  else if (amount === null)
    errors.amount = msg('Enter an amount in {currency}, like {example}.', {
      currency,
      example: toDecimalString(1250, currency),
    });
  else if (amount <= 0n) errors.amount = msg('Enter an amount above zero.');
  else if (amount > MAX_MINOR) errors.amount = msg('This amount is too large.');
  const reference = form.reference.trim();
  if (reference.length > 100) errors.reference = msg('Use at most 100 characters.');
  if (Object.keys(errors).length || !kind || amount === null) return { errors };
  return { value: { kind, amountMinor: amount, reference: reference || null }, errors };
}

/** A debit limit: how far below zero the balance may go; zero or more. */
export function checkDebitLimit(text: string, currency: string): { value?: bigint; errors: Record<string, Msg> } {
  const amount = parseAmount(text, currency);
  if (!text.trim())
    return { errors: { debitLimit: msg('Enter the debit limit in {currency} (0 for none).', { currency }) } };
  if (amount === null)
    return {
      errors: {
        debitLimit: msg('Enter an amount in {currency}, like {example}.', {
          currency,
          example: toDecimalString(50000, currency),
        }),
      },
    };
  if (amount < 0n) return { errors: { debitLimit: msg('The debit limit cannot be below zero.') } };
  if (amount > MAX_MINOR) return { errors: { debitLimit: msg('This amount is too large.') } };
  return { value: amount, errors: {} };
}

export type NumberRangeForm = { firstNumber: string; lastNumber: string; blockSize: string };
export type NumberRange = { firstNumber: bigint; lastNumber: bigint; blockSize: number };

const NUMBER = /^\d{1,15}$/;

/** The tenant's number range: first and last number (inclusive) and the size of each block. */
export function checkNumberRange(form: NumberRangeForm): { value?: NumberRange; errors: Record<string, Msg> } {
  const errors: Record<string, Msg> = {};
  const first = form.firstNumber.trim();
  const last = form.lastNumber.trim();
  const size = form.blockSize.trim();
  if (!NUMBER.test(first)) errors.firstNumber = msg('Enter the first number of the range, digits only (up to 15).');
  if (!NUMBER.test(last)) errors.lastNumber = msg('Enter the last number of the range, digits only (up to 15).');
  if (!/^\d{1,9}$/.test(size) || Number(size) < 1)
    errors.blockSize = msg('Enter how many numbers a block holds (1 or more).');
  if (Object.keys(errors).length) return { errors };
  const value = { firstNumber: BigInt(first), lastNumber: BigInt(last), blockSize: Number(size) };
  if (value.lastNumber < value.firstNumber)
    return { errors: { lastNumber: msg('The last number must not be below the first.') } };
  if (BigInt(value.blockSize) > value.lastNumber - value.firstNumber + 1n)
    return { errors: { blockSize: msg('A block cannot be larger than the whole range.') } };
  return { value, errors };
}

/** How many whole blocks the range holds. */
export function blocksInRange(range: NumberRange): bigint {
  return (range.lastNumber - range.firstNumber + 1n) / BigInt(range.blockSize);
}
