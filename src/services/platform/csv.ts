/**
 * CSV cells for exports. The formula rule exists twice, side by side: csvCell for CSV written here
 * and neutralisedSql for CSV that PostgreSQL writes itself with COPY. A text cell that a spreadsheet
 * would run as a formula (it starts with =, +, -, @, tab or carriage return) gets a leading
 * apostrophe; numbers stay numbers. Both quote alike, as COPY's CSV format does (RFC 4180 rules,
 * lines end in \n), so the same rows come out the same from either.
 */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);

export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = FORMULA_START.has(value.charAt(0)) ? `'${value}` : value;
  // COPY also quotes a lone \. so that it cannot read as its end-of-data marker
  return /[",\r\n]/.test(text) || text === '\\.' ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The same rule in SQL around a text expression (trusted SQL, never user input); '' becomes NULL, an
 * empty cell, as csvCell writes it.
 */
export function neutralisedSql(expression: string): string {
  return `nullif(case when left(${expression}, 1) in ('=', '+', '-', '@', chr(9), chr(13))
                 then '''' || ${expression} else ${expression} end, '')`;
}

export function csvLine(cells: readonly (string | number | null | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\n`;
}
