import { createHash } from 'node:crypto';
import type { Db } from './index.js';
import { pgPoolAdapter } from './index.js';

/**
 * A read whose plan PostgreSQL keeps, through any connection pooler: the statement runs inside a
 * PL/pgSQL function, and PL/pgSQL plans the statements of a function once per server connection
 * (here always the generic plan) instead of on every call. Planning a query sent as text is paid on
 * every request; for the session read it was most of the database's work per page (7 ms of CPU of a
 * 9 ms total under load, against 0.5 ms to run it). Protocol-level prepared statements would do the same
 * but need PgBouncer 1.21+ in transaction pooling (db/prepared.ts); a function works with every pooler.
 *
 * The function is named after a hash of its text, so each version of the code calls its own: two
 * versions of the app running side by side during a rolling deployment never call each other's. It is
 * created the first time a connection finds it missing (any database: tests, restored dumps, replicas'
 * primaries), under an advisory lock so that instances starting together create it once.
 */
export type StoredRead = {
  /** the function's name: `<prefix>_<hash of the statement>` */
  name: string;
  /** the SQL that creates it */
  create: string;
  /** the call, with the same parameters as the statement */
  call: string;
};

/**
 * `sql` uses `$1`…`$n` for its parameters, of the PostgreSQL types `paramTypes`; each row it returns comes
 * back as one object (its columns as JSON: text, numbers, booleans, uuids as text, json as objects).
 */
export function storedRead(prefix: string, paramTypes: string[], sql: string): StoredRead {
  const args = paramTypes.join(', ');
  const body = `begin\n  return query select to_jsonb(r) from (${sql}) r;\nend`;
  const hash = createHash('sha1').update(`${args}\n${body}`).digest('hex').slice(0, 16);
  const name = `${prefix}_${hash}`;
  return {
    name,
    create:
      `create or replace function ${name}(${args}) returns setof jsonb language plpgsql stable ` +
      `set plan_cache_mode = force_generic_plan as $routine$\n${body}\n$routine$`,
    call: `select r as row from ${name}(${paramTypes.map((_, i) => `$${i + 1}`).join(', ')}) r`,
  };
}

const UNDEFINED_FUNCTION = '42883';

/** The rows of a stored read, creating its function first where this database lacks it. */
export async function runStoredRead<Row>(db: Db, read: StoredRead, values: unknown[]): Promise<Row[]> {
  const pool = pgPoolAdapter(db);
  try {
    return rowsOf<Row>(await pool.query(read.call, values, read.name));
  } catch (err) {
    if ((err as { code?: string }).code !== UNDEFINED_FUNCTION) throw err;
  }
  await db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [read.name]);
    const { rows } = await trx.raw<{ rows: unknown[] }>('select 1 from pg_proc where proname = ?', [read.name]);
    if (!rows.length) await trx.raw(read.create.replaceAll('?', '\\?'));
  });
  return rowsOf<Row>(await pool.query(read.call, values, read.name));
}

function rowsOf<Row>(result: unknown): Row[] {
  return (result as { rows: { row: Row }[] }).rows.map((r) => r.row);
}
