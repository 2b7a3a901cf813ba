import type { Request } from 'express';
import { formatMoney, supportedLocale } from '../services/billing/index.js';

/**
 * The viewer's locale for numbers and money: the first of the browser's Accept-Language tags (the
 * first five looked at) that Intl knows, else British English. A header is never trusted to be a tag.
 */
export function viewerLocale(req: Request): string {
  if (!req.get('Accept-Language')) return supportedLocale(null);
  for (const tag of req.acceptsLanguages().slice(0, 5)) {
    if (tag === '*' || tag.length > 35) continue;
    const locale = supportedLocale(tag);
    if (locale !== 'en-GB' || tag.toLowerCase() === 'en-gb') return locale;
  }
  return supportedLocale(null);
}

/** What a page needs to show money: `money(minor, currency)` in the viewer's locale. */
export function moneyHelpers(req: Request) {
  const locale = viewerLocale(req);
  return { locale, money: (minor: bigint | number | string, currency: string) => formatMoney(minor, currency, locale) };
}
