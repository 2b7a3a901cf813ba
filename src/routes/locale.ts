import type { Request } from 'express';
import { formatMoney, supportedLocale } from '../services/money.js';

/** The viewer's locale from their browser's Accept-Language, for numbers and money; English when none fits. */
export function viewerLocale(req: Request): string {
  const first = req.acceptsLanguages().find((l) => l !== '*');
  return supportedLocale(first);
}

/** What a page needs to show money: `money(minor, currency)` in the viewer's locale. */
export function moneyHelpers(req: Request) {
  const locale = viewerLocale(req);
  return { locale, money: (minor: bigint | number | string, currency: string) => formatMoney(minor, currency, locale) };
}
