import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { describe, expect, it } from 'vitest';
import { csvCell, csvLine, neutralisedSql } from '../../src/services/platform/csv.js';
import { testDatabase } from '../support/db.js';

const { db } = await testDatabase();

/** Text cells and what a spreadsheet must see: a formula start gets an apostrophe, quoting per RFC 4180. */
const TEXT_CASES: [string, string][] = [
  ['=HYPERLINK("http://x.test","click")', `"'=HYPERLINK(""http://x.test"",""click"")"`],
  ['+44 20 7946 0000', "'+44 20 7946 0000"],
  ['-2+3', "'-2+3"],
  ['@SUM(A1)', "'@SUM(A1)"],
  ['\tcmd', "'\tcmd"],
  ['\rcmd', `"'\rcmd"`],
  ['Truck 7', 'Truck 7'],
  [' =not a formula', ' =not a formula'],
  ['a, b', '"a, b"'],
  ['say "hi"', '"say ""hi"""'],
  ['two\nlines', '"two\nlines"'],
  ["'already", "'already"],
  ['\\.', '"\\."'],
  ['', ''],
];

/** What PostgreSQL's COPY writes for one text value through neutralisedSql, without the line end. */
async function copiedCell(value: string): Promise<string> {
  const conn = (await db.client.acquireConnection()) as pg.Client;
  try {
    const sql = db.raw(`select ${neutralisedSql('v')} from (select ?::text as v) t`, [value]).toQuery();
    const stream = conn.query(copyTo(`copy (${sql}) to stdout with (format csv)`));
    let out = '';
    for await (const chunk of stream) out += String(chunk);
    return out.replace(/\n$/, '');
  } finally {
    await db.client.releaseConnection(conn);
  }
}

describe('CSV cells', () => {
  it.each(TEXT_CASES)('writes %j as a spreadsheet can only read as text', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it.each(TEXT_CASES)('comes out of COPY the same way: %j', async (value, expected) => {
    expect(await copiedCell(value)).toBe(expected);
  });

  it('writes numbers as numbers, negative ones included, and nothing for no value', () => {
    expect(csvCell(42)).toBe('42');
    expect(csvCell(-0.12)).toBe('-0.12');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(Number.NaN)).toBe('');
  });

  it('ends each line with a newline, as COPY does', () => {
    expect(csvLine(['=1', 2, null, 'x'])).toBe("'=1,2,,x\n");
  });
});
