import { describe, expect, it } from 'vitest';
import { runStoredRead, storedRead } from '../../src/db/routines.js';
import { testDatabase } from '../support/db.js';

/**
 * Stored reads (src/db/routines.ts): a statement run inside a PL/pgSQL function of its own, created the
 * first time a database lacks it. What callers rely on: the rows come back as the statement's, on a
 * database that has never seen the function, however many requests arrive at once.
 */
const { db } = await testDatabase();

const functionsNamed = async (prefix: string) =>
  (
    await db.raw<{ rows: { proname: string }[] }>(
      "select proname from pg_proc where proname like ? || '\\_%' order by proname",
      [prefix],
    )
  ).rows.map((r) => r.proname);

describe('a stored read', () => {
  it('creates its function once while twenty first requests arrive together, and all of them get their rows', async () => {
    const read = storedRead(
      'test_concurrent',
      ['int'],
      'select g as n, g % 2 = 0 as even from generate_series(1, $1) g',
    );
    expect(await functionsNamed('test_concurrent')).toEqual([]);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => runStoredRead<{ n: number; even: boolean }>(db, read, [i + 1])),
    );
    answers.forEach((rows, i) => {
      expect(rows).toHaveLength(i + 1);
      expect(rows[i]).toEqual({ n: i + 1, even: (i + 1) % 2 === 0 });
    });
    expect(await functionsNamed('test_concurrent')).toEqual([read.name]);
  });

  it('gives back text, uuids, json and nulls as the statement returned them, whatever characters they hold', async () => {
    const read = storedRead(
      'test_values',
      ['text', 'jsonb'],
      "select $1 as said, $2 ? 'k' as has_k, $2 as doc, null::text as nothing, " +
        "'2f1c6a0e-8a57-4c5e-9d0f-3f0b2a1c9e7d'::uuid as id",
    );
    const said = `O'Brien's "quote" ? $1 \\ ${'x'.repeat(3000)}`;
    const [row] = await runStoredRead<Record<string, unknown>>(db, read, [said, { k: [1, 'two'] }]);
    expect(row).toEqual({
      said,
      has_k: true,
      doc: { k: [1, 'two'] },
      nothing: null,
      id: '2f1c6a0e-8a57-4c5e-9d0f-3f0b2a1c9e7d',
    });
  });

  it('of a changed statement is a function of its own, so two versions of the app running side by side each read their own', async () => {
    const before = storedRead('test_versions', ['text'], "select 'old ' || $1 as said");
    const after = storedRead('test_versions', ['text'], "select 'new ' || $1 as said");
    expect(before.name).not.toBe(after.name);
    expect(await runStoredRead(db, before, ['a'])).toEqual([{ said: 'old a' }]);
    expect(await runStoredRead(db, after, ['b'])).toEqual([{ said: 'new b' }]);
    expect(await runStoredRead(db, before, ['c'])).toEqual([{ said: 'old c' }]);
    expect(await functionsNamed('test_versions')).toEqual([before.name, after.name].sort());
  });

  it('passes on an error of the statement itself instead of taking it for a missing function', async () => {
    const read = storedRead('test_errors', ['int'], 'select 1 / $1 as x');
    await expect(runStoredRead(db, read, [0])).rejects.toMatchObject({ code: '22012' });
    expect(await runStoredRead(db, read, [1])).toEqual([{ x: 1 }]);
  });
});
