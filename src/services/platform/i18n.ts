import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IntlMessageFormat } from 'intl-messageformat';

/**
 * Every text a person reads, in their language. The catalog is keyed by the English text itself, written
 * as an ICU message (`'{count, plural, one {# asset} other {# assets}}'`), as gettext and Lingui do: a
 * template reads `t('Sign in')`, English needs no catalog, and each other language has one JSON file per
 * area under `src/locales/<lang>/`, mapping the English message to its translation. `npm run check`
 * (scripts/check-catalog.ts) fails when a template holds visible text outside `t()`, or a message used in
 * the code is missing from a language, or a translation's placeholders differ from the English ones.
 *
 * Services do not translate: a text they hand to a page (a validation message, a label, a flash) is
 * either a plain English message or `msg(id, values)` for one with values; the page translates it at
 * render time in the reader's language. What leaves as finished text (mails, CSV files) is written with a
 * Translator for the recipient's language.
 */

export const LOCALES = ['en', 'de'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'en';
/** each language's name in itself, for the language choice */
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', de: 'Deutsch' };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

export type MessageValues = Record<string, string | number | bigint | Date | boolean | null | undefined>;
/** A text to translate where it is shown: the English message, with the values of its placeholders. */
export type Message = { id: string; values: MessageValues };
export type Msg = string | Message;

/**
 * Marks an English message for the catalog (the check finds it by this call), with values for its
 * placeholders; translated where it is shown. Without values it is the message itself, a string.
 */
export function msg(id: string): string;
export function msg(id: string, values: MessageValues | undefined): Msg;
export function msg(id: string, values?: MessageValues): Msg {
  return values ? { id, values } : id;
}

export function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && typeof (value as Message).id === 'string';
}

const localesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../locales');

/** One language's catalog: every JSON file of its folder, merged (each file is one area of the product). */
export function readCatalog(locale: Locale, dir = localesDir): Map<string, string> {
  const catalog = new Map<string, string>();
  if (locale === DEFAULT_LOCALE) return catalog;
  let files: string[] = [];
  try {
    files = readdirSync(path.join(dir, locale)).filter((f) => f.endsWith('.json'));
  } catch {
    return catalog;
  }
  for (const file of files.sort()) {
    const entries = JSON.parse(readFileSync(path.join(dir, locale, file), 'utf8')) as Record<string, string>;
    for (const [id, text] of Object.entries(entries)) catalog.set(id, text);
  }
  return catalog;
}

/** What a page, mail or file needs to speak a person's language. */
export type Translator = {
  locale: Locale;
  /** the BCP 47 tag numbers, money and dates are formatted with (e.g. `de-DE`, or the browser's `en-US`) */
  formatLocale: string;
  /** the text in this language: an English message (or a Message with values), or '' for none */
  t(text: Msg | null | undefined, values?: MessageValues): string;
  /** a day and time in the given zone: "24 Nov 2026, 14:05 GMT" / "24. Nov. 2026, 14:05 MEZ" */
  dateTime(value: Date | string | null | undefined, timeZone: string): string;
  /** a day: "24 Nov 2026" / "24. Nov. 2026" (a `YYYY-MM-DD` day is read as that day, whatever the zone) */
  date(value: Date | string | null | undefined, timeZone?: string): string;
  /** a whole or decimal number with the language's grouping: "1,234" / "1.234" */
  number(value: number | bigint | string | null | undefined, options?: Intl.NumberFormatOptions): string;
};

const catalogs = new Map<Locale, Map<string, string>>();
const compiled = new Map<string, IntlMessageFormat>();
const translators = new Map<string, Translator>();

function catalogOf(locale: Locale): Map<string, string> {
  let c = catalogs.get(locale);
  if (!c) {
    c = readCatalog(locale);
    catalogs.set(locale, c);
  }
  return c;
}

function format(locale: Locale, source: string, values: MessageValues | undefined): string {
  const text = locale === DEFAULT_LOCALE ? source : (catalogOf(locale).get(source) ?? source);
  // a message with no placeholder, plural or quote is its own text: no need to compile it
  if (!values && !/[{}']/.test(text)) return text;
  const key = `${locale}\u0000${text}`;
  let m = compiled.get(key);
  if (!m) {
    try {
      m = new IntlMessageFormat(text, locale);
    } catch {
      return text; // not an ICU message (a text with braces written for machines): shown as written
    }
    compiled.set(key, m);
  }
  try {
    return String(m.format(values as Record<string, string | number | Date | boolean>));
  } catch {
    return text; // a placeholder without its value: the text as written, never a failed page
  }
}

const FORMAT_LOCALES: Record<Locale, string> = { en: 'en-GB', de: 'de-DE' };

/**
 * The Translator for a language. Numbers and money follow `formatLocale` (the browser's) when it is of
 * that language (de-AT, de-CH for German); English is also the language of everyone whose own Portico
 * does not speak yet, so under English any browser's conventions are kept (fr-FR money for a French
 * browser). Dates follow the language alone.
 */
export function translator(locale: Locale, formatLocale?: string): Translator {
  const fmtLocale =
    formatLocale && (locale === DEFAULT_LOCALE || formatLocale.toLowerCase().split('-')[0] === locale)
      ? formatLocale
      : FORMAT_LOCALES[locale];
  const key = `${locale}|${fmtLocale}`;
  let tr = translators.get(key);
  if (tr) return tr;
  const dateLocale = FORMAT_LOCALES[locale];
  const dateTimes = new Map<string, Intl.DateTimeFormat>();
  const dateTimeIn = (timeZone: string) => {
    let f = dateTimes.get(timeZone);
    if (!f) {
      try {
        f = new Intl.DateTimeFormat(dateLocale, {
          year: 'numeric',
          month: 'short',
          day: 'numeric',
          hour: '2-digit',
          minute: '2-digit',
          timeZone,
          timeZoneName: 'short',
        });
      } catch {
        return dateTimeIn('UTC');
      }
      dateTimes.set(timeZone, f);
    }
    return f;
  };
  const days = new Map<string, Intl.DateTimeFormat>();
  const dayIn = (timeZone: string) => {
    let f = days.get(timeZone);
    if (!f) {
      try {
        f = new Intl.DateTimeFormat(dateLocale, { year: 'numeric', month: 'short', day: 'numeric', timeZone });
      } catch {
        return dayIn('UTC');
      }
      days.set(timeZone, f);
    }
    return f;
  };
  const numbers = new Map<string, Intl.NumberFormat>();
  tr = {
    locale,
    formatLocale: fmtLocale,
    t(text, values) {
      if (text === null || text === undefined || text === '') return '';
      if (isMessage(text)) return format(locale, text.id, { ...text.values, ...values });
      return format(locale, text, values);
    },
    dateTime(value, timeZone) {
      if (value === null || value === undefined || value === '') return '';
      const d = value instanceof Date ? value : new Date(value);
      return Number.isNaN(d.getTime()) ? '' : dateTimeIn(timeZone).format(d);
    },
    date(value, timeZone = 'UTC') {
      if (value === null || value === undefined || value === '') return '';
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value))
        return dayIn('UTC').format(new Date(`${value}T00:00:00Z`));
      const d = value instanceof Date ? value : new Date(value);
      return Number.isNaN(d.getTime()) ? '' : dayIn(timeZone).format(d);
    },
    number(value, options) {
      if (value === null || value === undefined || value === '') return '';
      const key = options ? JSON.stringify(options) : '';
      let f = numbers.get(key);
      if (!f) {
        f = new Intl.NumberFormat(fmtLocale, options);
        numbers.set(key, f);
      }
      return f.format(typeof value === 'string' ? Number(value) : value);
    },
  };
  translators.set(key, tr);
  return tr;
}

/** SQL for the language to write to a person (`u` a users row): their choice, else their browser's, else English. */
export const recipientLocale = (u = 'u') => `coalesce(${u}.locale, ${u}.browser_locale, 'en')`;

/** The English Translator: logs, the API's answers and anything read by systems rather than people. */
export const english = translator(DEFAULT_LOCALE);

/**
 * The language to speak to someone who chose none: the first of their browser's languages (in order of
 * preference, at most the first five) that Portico speaks, else English.
 */
export function localeFromTags(tags: readonly string[]): Locale {
  for (const tag of tags.slice(0, 5)) {
    const lang = tag.toLowerCase().split('-')[0];
    if (isLocale(lang)) return lang;
  }
  return DEFAULT_LOCALE;
}
