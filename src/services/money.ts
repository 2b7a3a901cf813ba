/**
 * Money is integer minor units plus an ISO 4217 currency, never a float; these turn it into text for
 * people (in the viewer's locale, en-GB unless told) and into plain decimals for files (CSV, copy to
 * a spreadsheet).
 */

const digitsCache = new Map<string, number>();

/** A currency's format, or the "no currency" one (XXX) for a code Intl does not know. */
function currencyFormat(locale: string, currency: string): Intl.NumberFormat {
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency });
  } catch {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: 'XXX' });
  }
}

/** How many minor-unit digits a currency has: 2 for GBP and EUR, 0 for JPY, 3 for BHD. */
export function minorDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    digits = currencyFormat('en', currency).resolvedOptions().maximumFractionDigits ?? 2;
    digitsCache.set(currency, digits);
  }
  return digits;
}

/** The minor units a currency has per major unit: 100 for GBP and EUR, 1 for JPY. */
export function minorPerMajor(currency: string): number {
  return 10 ** minorDigits(currency);
}

/** Minor units as a plain decimal string, exactly (no float on the way): 12345 GBP → "123.45". */
export function minorToDecimal(minor: number | bigint | string, currency: string): string {
  const digits = minorDigits(currency);
  const value = BigInt(minor);
  const negative = value < 0n;
  const text = (negative ? -value : value).toString().padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits);
  const fraction = digits ? `.${text.slice(text.length - digits)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

const formatters = new Map<string, Intl.NumberFormat>();

/** Minor units for a person: 1234 GBP → "£12.34" (en-GB), -50 EUR → "-€0.50", 12345 EUR in de-DE → "123,45 €". */
export function formatMoney(minor: number | bigint | string, currency: string, locale = 'en-GB'): string {
  const key = `${locale}|${currency}`;
  let f = formatters.get(key);
  if (!f) {
    f = currencyFormat(locale, currency);
    formatters.set(key, f);
  }
  // Intl formats a decimal string exactly (no rounding through a double)
  return f.format(minorToDecimal(minor, currency) as unknown as number);
}
