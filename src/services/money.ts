/** Money is integer minor units with an ISO currency; shown in that currency's own format. */
const formats = new Map<string, { format: Intl.NumberFormat; digits: number }>();

function formatFor(currency: string): { format: Intl.NumberFormat; digits: number } {
  let f = formats.get(currency);
  if (!f) {
    let format: Intl.NumberFormat;
    try {
      format = new Intl.NumberFormat('en-GB', { style: 'currency', currency });
    } catch {
      format = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'XXX' });
    }
    f = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 };
    formats.set(currency, f);
  }
  return f;
}

/** The minor units a currency has per major unit: 100 for GBP and EUR, 1 for JPY. */
export function minorPerMajor(currency: string): number {
  return 10 ** formatFor(currency).digits;
}

/** 1234 GBP → "£12.34"; -50 EUR → "-€0.50". */
export function formatMoney(minor: number | string | bigint, currency: string): string {
  const f = formatFor(currency);
  return f.format.format(Number(minor) / 10 ** f.digits);
}
