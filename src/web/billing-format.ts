import type { Request, Response } from 'express';
import {
  formatDuration,
  formatMoney,
  INVOICE_STATUS_LABELS,
  invoiceNumberLabel,
  SUMMARY_PRODUCT_LABELS,
  SUMMARY_PRODUCTS,
  SUMMARY_VIEW_LABELS,
  SUMMARY_VIEWS,
  toDecimalString,
} from '../services/billing/index.js';
import { requestTranslator } from './locale.js';
import { msg, type Translator } from '../services/platform/index.js';

/** What the billing templates share: number, money and duration formatting for the viewer's locale. */

const formats = new Map<string, ReturnType<typeof formatsFor>>();

/** The formatters of the viewer's locale, made once per locale (Intl constructors are not free). */
export function billingFormat(req: Request, res: Response) {
  const locale = requestTranslator(req, res).formatLocale;
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

/**
 * The sub-pages of the customer's /billing, in one list: the account (here), and the pages the
 * invoices and call summaries add. The page's sub-navigation is drawn from it.
 */
export const BILLING_SECTIONS: { key: string; href: string; label: string }[] = [
  { key: 'account', href: '/billing', label: msg('Account') },
  { key: 'summaries', href: '/billing/summaries', label: msg('Call summaries') },
  { key: 'invoices', href: '/billing/invoices', label: msg('Invoices') },
  { key: 'usage', href: '/usage', label: msg('Usage') },
];

const secondFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * A usage record's moment to the second, in the reader's language and time zone: "24 Nov 2026, 21:48:01 GMT"
 * (English, as formatDateTimeSeconds writes it) or "24. Nov. 2026, 21:48:01 GMT".
 */
export function secondsTime(i18n: Translator, timeZone: string): (value: Date | string) => string {
  const locale = i18n.locale === 'de' ? 'de-DE' : 'en-GB';
  const key = `${locale}|${timeZone}`;
  let f = secondFormats.get(key);
  if (!f) {
    const options: Intl.DateTimeFormatOptions = {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
    };
    try {
      f = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    } catch {
      f = new Intl.DateTimeFormat(locale, { ...options, timeZone: 'UTC' });
    }
    if (secondFormats.size < 1000) secondFormats.set(key, f);
  }
  const format = f;
  return (value) => format.format(value instanceof Date ? value : new Date(value));
}
