/**
 * The periods of the scheduled reports, in calendar days of the person's time zone (pure). The SQL that
 * picks who is due computes the same first days with PostgreSQL's date_trunc (a week starts on Monday);
 * these say what a period covers and how it reads.
 */

export type Day = string;
export type Period = { from: Day; to: Day };

const asDate = (day: Day) => new Date(`${day}T00:00:00Z`);
const asDay = (d: Date): Day => d.toISOString().slice(0, 10);

/** The digest's week: Monday to Sunday, the day the period starts given. */
export function weekOf(start: Day): Period {
  const d = asDate(start);
  d.setUTCDate(d.getUTCDate() + 6);
  return { from: start, to: asDay(d) };
}

/** The statement's month: its first to its last day. */
export function monthOf(start: Day): Period {
  const d = asDate(start);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0));
  return { from: start, to: asDay(last) };
}

/** "November 2026" */
export function monthName(start: Day): string {
  return asDate(start).toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}
