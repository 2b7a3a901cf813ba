/** Call data records as a customer reads them: the period they cover, the other party, duration and cost. */

/**
 * The start of "the last month" before `now`: the same time on the same day of the previous
 * calendar month (UTC), or that month's last day when it is shorter (31 March goes back to
 * 28 or 29 February).
 */
export function lastMonthStart(now: Date): Date {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const lastDayOfPrevious = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const day = Math.min(now.getUTCDate(), lastDayOfPrevious);
  return new Date(Date.UTC(y, m - 1, day, now.getUTCHours(), now.getUTCMinutes(), now.getUTCSeconds(), now.getUTCMilliseconds()));
}

/** The number on the other end: who was called or texted, or who called or texted in. */
export function otherParty(r: { direction: string; from_number: string; to_number: string }): string {
  return r.direction === 'inbound' ? r.from_number : r.to_number;
}

/** 0:42, 12:05, 1:02:03 */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** How many minor units a currency has (2 for GBP and EUR, 0 for JPY, 3 for KWD). */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Integer minor units as the decimal amount a spreadsheet sums (exact: no float arithmetic on the units). */
export function minorToDecimal(minor: number, currency: string): number {
  const digits = minorDigits(currency);
  if (!digits) return minor;
  const sign = minor < 0 ? '-' : '';
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  return Number(`${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`);
}

export function formatMoney(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(minorToDecimal(minor, currency));
}
