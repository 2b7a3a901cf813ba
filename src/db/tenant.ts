import { finished, type Readable } from 'node:stream';
import type { Knex } from 'knex';
import { to as copyTo } from 'pg-copy-streams';
import type pg from 'pg';
import { BusyError, TooManyRequestsError } from '../errors.js';
import { retriesAsText, usesPreparedStatements, type Db, type Trx } from './index.js';
import { queryPipelined, type NativeStatement } from './prepared.js';

/**
 * Runs fn in a transaction bound to one tenant: row-level security admits only that tenant's rows,
 * so a query that forgets its tenant filter still cannot see another tenant. One round trip sets
 * both the tenant and the role; both end with the transaction (safe under PgBouncer).
 */
export async function inTenant<T>(db: Db | Trx, tenantId: string, fn: (trx: Trx) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    await trx.raw("select set_config('portico.tenant_id', ?, true), set_config('role', 'portico_app', true)", [
      tenantId,
    ]);
    return fn(trx);
  });
}

/** Turns on tenant isolation for a tenant-owned table; every migration that adds one calls it. */
export async function enableTenantIsolation(db: Knex, table: string): Promise<void> {
  await db.raw(`
    alter table ${table} enable row level security;
    create policy tenant_isolation on ${table}
      using (tenant_id = nullif(current_setting('portico.tenant_id', true), '')::uuid)
      with check (tenant_id = nullif(current_setting('portico.tenant_id', true), '')::uuid);
    grant select, insert, update, delete on ${table} to portico_app;
  `);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** inTenant's setup statement as text: the tenant goes in as a literal, so it must be a uuid and nothing else. */
function tenantSetupSql(tenantId: string): string {
  if (!UUID.test(tenantId)) throw new Error('tenant id is not a uuid');
  return `select set_config('portico.tenant_id', '${tenantId}', true), set_config('role', 'portico_app', true)`;
}

type PgClient = pg.Client & {
  processID?: number;
  __knex__disposed?: unknown;
  connection: { stream?: { destroy(): void } };
};
type KnexPool = { acquireConnection(): Promise<PgClient>; releaseConnection(c: PgClient): Promise<void> };

function poolOf(db: Db): KnexPool {
  if (db.isTransaction) throw new Error('needs the pool, not a transaction');
  return db.client as unknown as KnexPool;
}

/** A statement for queryInTenant: SQL text whose values are inlined, or a knex query (its values go as parameters). */
export type TenantStatement =
  string | { toQuery(): string; toSQL(): { toNative(): { sql: string; bindings: readonly unknown[] } } };

const TENANT_SETUP_NATIVE = "select set_config('portico.tenant_id', $1, true), set_config('role', 'portico_app', true)";

/**
 * inTenant in ONE round trip, for pages that must be fast: the setup and the statements go as one
 * multi-statement simple query, which PostgreSQL runs as one implicit transaction, so the settings
 * hold for these statements and end with them (safe under PgBouncer). A simple query takes no
 * parameters: a knex query goes as its `.toQuery()`, which inlines its bindings escaped; a string must be
 * such text already. Not a CTE: the planner would evaluate the policy before a CTE's set_config runs.
 * Where the database uses prepared statements (DATABASE_PREPARED_STATEMENTS, on by default), the same
 * statements go as named statements with parameters in one pipeline and one implicit transaction
 * (db/prepared.ts), planned once per connection; as text again where that fails for being named (retriesAsText).
 */
export async function queryInTenant(
  db: Db,
  tenantId: string,
  statements: TenantStatement[],
): Promise<pg.QueryResult[]> {
  const pool = poolOf(db);
  const setup = tenantSetupSql(tenantId); // checks the id in either mode
  if (usesPreparedStatements(db)) {
    const native: NativeStatement[] = [
      { sql: TENANT_SETUP_NATIVE, bindings: [tenantId] },
      ...statements.map((s) => (typeof s === 'string' ? { sql: s, bindings: [] } : s.toSQL().toNative())),
    ];
    const client = await pool.acquireConnection();
    try {
      return (await queryPipelined(client, native)).slice(1);
    } catch (err) {
      // which of its statements the connection now holds is unsure: it is not handed out again
      client.__knex__disposed = 'a prepared pipeline failed';
      // a pooler lost them, or a table changed under them: the pipeline rolled back whole; again as text, below
      if (!retriesAsText(db, err)) throw err;
    } finally {
      await pool.releaseConnection(client);
    }
  }
  const text = [setup, ...statements.map((s) => (typeof s === 'string' ? s : s.toQuery()))].join(';\n');
  const client = await pool.acquireConnection();
  try {
    const results = (await client.query(text)) as unknown as pg.QueryResult[];
    return results.slice(1);
  } finally {
    await pool.releaseConnection(client);
  }
}

/** A raw pg connection in a transaction bound to one tenant, for what knex cannot do (COPY streams). */
export type TenantConnection = {
  client: pg.Client;
  /** commit and give the connection back */
  finish(): Promise<void>;
  /**
   * Stop whatever the connection is running and throw the connection away: a cancel from another
   * connection stops a query still computing, and closing the socket stops a backend blocked on
   * sending to a reader that went away (it does not see a cancel until its write completes).
   */
  abandon(): Promise<void>;
};

/** Connections held by readers, per pool (one per instance): how many, whose, and who waits for one. */
type Readers = { held: number; holders: Set<string>; waiting: (() => void)[] };
const readers = new WeakMap<Db, Readers>();
/** How long a reader waits for one of the readers' connections before being told to come back. */
const READER_WAIT_MS = 5000;

/**
 * A connection a reader may hold for as long as they read (a COPY export to a client who reads
 * slowly): at most a third of the pool at once, the next readers waiting a few seconds for one
 * (then BusyError, 503), and one per holder (429), so that readers who stop reading never take
 * the connections every page needs. Resolves to its release.
 */
async function readerSlot(db: Db, holder: string | undefined): Promise<() => void> {
  const poolMax = (db.client as { config: { pool?: { max?: number } } }).config.pool?.max ?? 10;
  const r = readers.get(db) ?? { held: 0, holders: new Set<string>(), waiting: [] };
  readers.set(db, r);
  if (holder && r.holders.has(holder))
    throw new TooManyRequestsError('You have a download under way: let it finish, then try again.', 5);
  if (holder) r.holders.add(holder);
  if (r.held >= Math.max(1, Math.floor(poolMax / 3))) {
    const turn = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        r.waiting.splice(r.waiting.indexOf(next), 1);
        resolve(false);
      }, READER_WAIT_MS);
      const next = () => {
        clearTimeout(timer);
        resolve(true);
      };
      r.waiting.push(next);
    });
    if (!turn) {
      if (holder) r.holders.delete(holder);
      throw new BusyError('Other downloads are under way. Try again in a moment.');
    }
  } else r.held += 1;
  let freed = false;
  return () => {
    if (freed) return;
    freed = true;
    if (holder) r.holders.delete(holder);
    // the connection passes to the reader who waited longest, or back to the count
    const next = r.waiting.shift();
    if (next) next();
    else r.held -= 1;
  };
}

export async function openTenantConnection(
  db: Db,
  tenantId: string,
  opts: { holder?: string } = {},
): Promise<TenantConnection> {
  const pool = poolOf(db);
  const free = await readerSlot(db, opts.holder);
  let client: PgClient;
  try {
    client = await pool.acquireConnection();
  } catch (err) {
    free();
    throw err;
  }
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await pool.releaseConnection(client);
  };
  const abandon = async () => {
    if (released) return;
    free();
    const pid = client.processID;
    client.__knex__disposed = 'abandoned'; // the pool drops it instead of handing it out again
    try {
      if (pid) await db.raw('select pg_cancel_backend(?)', [pid]);
    } finally {
      client.connection.stream?.destroy();
      await release();
    }
  };
  try {
    await client.query(`begin; ${tenantSetupSql(tenantId)}`);
  } catch (err) {
    await abandon();
    throw err;
  }
  return {
    client,
    abandon,
    async finish() {
      if (released) return;
      free();
      try {
        await client.query('commit');
        await release();
      } catch (err) {
        await abandon();
        throw err;
      }
    },
  };
}

/**
 * `COPY (…) TO STDOUT` on a tenant connection as a stream that owns the connection: resolves once the
 * first bytes are ready (a failing query rejects before any header goes out, and the connection is
 * thrown away); at its end the transaction commits, and if it is destroyed first (the reader left, or
 * `signal` aborted) the query is cancelled and the connection thrown away.
 */
export async function copyOut(conn: TenantConnection, copySql: string, signal?: AbortSignal): Promise<Readable> {
  const copy: Readable = conn.client.query(copyTo(copySql));
  try {
    await firstBytes(copy);
  } catch (err) {
    await conn.abandon();
    throw err;
  }
  finished(copy, (err) => void (err ? conn.abandon() : conn.finish()).catch(() => {}));
  if (signal) {
    if (signal.aborted) copy.destroy();
    else signal.addEventListener('abort', () => copy.destroy(), { once: true });
  }
  return copy;
}

function firstBytes(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const ready = () => {
      stream.off('error', fail);
      resolve();
    };
    const fail = (err: Error) => {
      stream.off('readable', ready);
      reject(err);
    };
    stream.once('readable', ready);
    stream.once('error', fail);
  });
}
