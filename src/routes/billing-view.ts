import type { Request } from 'express';
import { INVOICE_STATUS_LABELS, invoiceNumberLabel } from '../services/invoice-rules.js';
import { formatMoney, minorToDecimal } from '../services/money.js';
import { formatDuration, SUMMARY_PRODUCT_LABELS, SUMMARY_PRODUCTS, SUMMARY_VIEW_LABELS, SUMMARY_VIEWS } from '../services/summary-rules.js';

/** What the billing templates share: number, money and duration formatting for the viewer's locale. */

const FALLBACK_LOCALE = 'en-GB';

/** The first language the browser asks for that Intl knows, else en-GB (a header is never trusted to be a valid tag). */
export function viewerLocale(req: Request): string {
  const header = req.get('Accept-Language');
  if (!header) return FALLBACK_LOCALE;
  for (const tag of req.acceptsLanguages().slice(0, 5)) {
    if (tag === '*' || tag.length > 35) continue;
    try {
      if (Intl.NumberFormat.supportedLocalesOf([tag]).length) return tag;
    } catch {
      // not a language tag
    }
  }
  return FALLBACK_LOCALE;
}

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
    decimal: minorToDecimal,
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
