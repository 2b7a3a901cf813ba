import type { Request } from 'express';
import { INVOICE_STATUS_LABELS, invoiceNumberLabel } from '../services/invoice-rules.js';
import { formatMoney, toDecimalString } from '../services/money.js';
import { viewerLocale } from './locale.js';
import { formatDuration, SUMMARY_PRODUCT_LABELS, SUMMARY_PRODUCTS, SUMMARY_VIEW_LABELS, SUMMARY_VIEWS } from '../services/summary-rules.js';

/** What the billing templates share: number, money and duration formatting for the viewer's locale. */

const formats = new Map<string, ReturnType<typeof formatsFor>>();

/** The formatters of the viewer's locale, made once per locale (Intl constructors are not free). */
export function billingFormat(req: Request) {
  const locale = viewerLocale(req);
  let f = formats.get(locale);
  if (!f) {
    f = formatsFor(locale);
    if (formats.size < 100) formats.set(locale, f);
  }
  return f;
}

function formatsFor(locale: string) {
  const numbers = new Intl.NumberFormat(locale);
  const percent = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return {
    locale,
    money: (minor: number, currency: string) => formatMoney(minor, currency, locale),
    number: (n: number) => numbers.format(n),
    percent: (n: number | null) => (n === null ? '—' : `${percent.format(n)} %`),
    duration: formatDuration,
    decimal: toDecimalString,
    invoiceNumber: invoiceNumberLabel,
    statusLabels: INVOICE_STATUS_LABELS,
    date: (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—'),
    views: SUMMARY_VIEWS,
    viewLabels: SUMMARY_VIEW_LABELS,
    products: SUMMARY_PRODUCTS,
    productLabels: SUMMARY_PRODUCT_LABELS,
  };
}

/** The file name is ours (account, view, days), never user input as it is: quoted as it is. */
export const attachment = (filename: string) => `attachment; filename="${filename}"`;
