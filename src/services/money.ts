/**
 * Money is integer minor units plus an ISO 4217 currency, never a float; these turn it into text for
 * people (the viewer's locale) and into plain decimals for files (CSV, copy to a spreadsheet).
 */

const digitsCache = new Map<string, number>();

/** How many minor-unit digits a currency has: 2 for GBP and EUR, 0 for JPY, 3 for BHD. */
export function minorDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    digitsCache.set(currency, digits);
  }
  return digits;
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

/** Minor units for a person: 12345 GBP → "£123.45" in en-GB, "123,45 £" in fr-FR. */
export function formatMoney(minor: number | bigint | string, currency: string, locale = 'en-GB'): string {
  const key = `${locale}|${currency}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'currency', currency });
    formatters.set(key, f);
  }
  // Intl formats a decimal string exactly (no rounding through a double)
  return f.format(minorToDecimal(minor, currency) as unknown as number);
}
