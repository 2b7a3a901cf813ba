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
  return new Date(
    Date.UTC(y, m - 1, day, now.getUTCHours(), now.getUTCMinutes(), now.getUTCSeconds(), now.getUTCMilliseconds()),
  );
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
