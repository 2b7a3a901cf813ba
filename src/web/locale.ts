import type { Request, Response } from 'express';
import { formatMoney, supportedLocale } from '../services/billing/index.js';
import { isLocale, localeFromTags, translator, type Locale, type Translator } from '../services/platform/i18n.js';

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

/** The browser's first language Portico speaks (English when none). */
export function browserLanguage(req: Request): Locale {
  if (!req.get('Accept-Language')) return 'en';
  return localeFromTags(req.acceptsLanguages().filter((tag) => tag !== '*' && tag.length <= 35));
}

/** The language a request is answered in: the person's own choice in settings, else their browser's. */
export function requestLanguage(req: Request, res: Response): Locale {
  const chosen = (res.locals.actor as { locale?: unknown } | undefined)?.locale;
  return isLocale(chosen) ? chosen : browserLanguage(req);
}

/** Texts, dates and numbers in the language the request is answered in. */
export function requestTranslator(req: Request, res: Response): Translator {
  return translator(requestLanguage(req, res), viewerLocale(req));
}

/** What a page needs to show money: `money(minor, currency)` in the viewer's locale. */
export function moneyHelpers(req: Request, res: Response) {
  const locale = requestTranslator(req, res).formatLocale;
  return { locale, money: (minor: bigint | number | string, currency: string) => formatMoney(minor, currency, locale) };
}
