/**
 * Money is an integer count of the currency's minor units (pence, cents) with an ISO 4217 code;
 * never a float on the way. These pure helpers turn it into text for a viewer's locale (British
 * English when none is given) and back from what staff type, exactly: the decimal string goes to
 * Intl as a string, not through a Number.
 */

const digitsCache = new Map<string, number>();
const formats = new Map<string, Intl.NumberFormat>();

/**
 * Decimal places of a currency's minor unit (2 for GBP and EUR, 0 for JPY, 3 for BHD); 2 for a code
 * Intl does not know.
 */
export function minorDigits(currency: string): number {
  let d = digitsCache.get(currency);
  if (d === undefined) {
    try {
      d = new Intl.NumberFormat('en-GB', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      d = 2;
    }
    digitsCache.set(currency, d);
  }
  return d;
}

/** The minor units a currency has per major unit: 100 for GBP and EUR, 1 for JPY. */
export function minorPerMajor(currency: string): number {
  return 10 ** minorDigits(currency);
}

/** The minor units as an exact decimal string in major units: 12345 GBP → "123.45". */
export function toDecimalString(minor: bigint | number | string, currency: string): string {
  const value = BigInt(minor);
  const digits = minorDigits(currency);
  const sign = value < 0n ? '-' : '';
  const abs = (value < 0n ? -value : value).toString().padStart(digits + 1, '0');
  return digits ? `${sign}${abs.slice(0, -digits)}.${abs.slice(-digits)}` : `${sign}${abs}`;
}

/** A locale tag Intl understands, else British English. */
export function supportedLocale(locale: string | undefined | null): string {
  if (!locale) return 'en-GB';
  try {
    return Intl.NumberFormat.supportedLocalesOf([locale])[0] ?? 'en-GB';
  } catch {
    return 'en-GB';
  }
}

function formatFor(currency: string, locale: string): Intl.NumberFormat {
  const key = `${locale} ${currency}`;
  let f = formats.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, { style: 'currency', currency });
    } catch {
      f = new Intl.NumberFormat(locale, { style: 'currency', currency: 'XXX' });
    }
    formats.set(key, f);
  }
  return f;
}

/** 1234 GBP → "£12.34" (en-GB), "12,34 £" (de-DE); -50 EUR → "-€0.50". */
export function formatMoney(minor: bigint | number | string, currency: string, locale = 'en-GB'): string {
  // Intl reads a decimal string exactly (no rounding through a double)
  return formatFor(currency, supportedLocale(locale)).format(toDecimalString(minor, currency) as unknown as number);
}

/**
 * What staff type as an amount ("12.50", "1,250", "1250.5") in minor units, or null when it is not
 * an amount of this currency (too many decimals, letters, empty). Commas as thousands separators only.
 */
export function parseAmount(text: string, currency: string): bigint | null {
  const t = text.trim().replace(/[\s,]/g, '');
  const digits = minorDigits(currency);
  const m = /^(-)?(\d{1,15})(?:\.(\d+))?$/.exec(t);
  if (!m) return null;
  const fraction = m[3] ?? '';
  if (fraction.length > digits) return null;
  const minor = BigInt(m[2]! + fraction.padEnd(digits, '0'));
  return m[1] ? -minor : minor;
}
