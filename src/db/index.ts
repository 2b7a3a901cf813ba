import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import knex, { type Knex } from 'knex';
import pg from 'pg';

export type Db = Knex;
export type Trx = Knex.Transaction;

// bigint counts and sums arrive as strings by default; ours fit in a JS number
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
// a date is a calendar day, not an instant: keep 'YYYY-MM-DD' rather than a Date at local midnight
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

type DbOptions = {
  poolMax?: number;
  log?: (message: string) => void;
  applicationName?: string;
  /** the hot pages' statements as named (prepared) statements: DATABASE_PREPARED_STATEMENTS (db/prepared.ts) */
  preparedStatements?: boolean;
};

/**
 * The databases whose hot statements go as named statements (createDb's `preparedStatements`), with what
 * to log when a database stops using them.
 */
const prepared = new WeakMap<object, (message: string) => void>();

/** Whether queryInTenant and stored reads run named statements on this database (on by default). */
export function usesPreparedStatements(db: Db): boolean {
  return prepared.has(db.client as object);
}

/**
 * What a connection pooler that cannot carry named statements answers (PgBouncer before 1.21 in
 * transaction pooling, or without max_prepared_statements): a statement prepared on one server connection
 * is missing on the next ("does not exist"), or one prepared there by another client is in the way ("already
 * exists"). Straight to PostgreSQL, neither happens. Names are hashes of the statements' text, so a statement
 * found under its name is always the same statement.
 */
const LOST_STATEMENT = new Set(['26000', '42P05']);

/**
 * Whether a named statement failed for being named, not for what it asks: then the caller sends it again as
 * text (the failed one ran in a transaction of its own, rolled back whole), and nobody sees the error.
 * - A pooler lost it: this database (this process's pool) sends its statements as text from now on, which
 *   every pooler carries, and says so once in the log.
 * - A table it reads changed since it was prepared on this connection (a migration applied by a newer
 *   instance during a rolling deployment; PostgreSQL refuses "cached plan must not change result type"):
 *   the caller throws that connection away, and the next one prepares it afresh.
 */
export function retriesAsText(db: Db, err: unknown): boolean {
  const { code, message } = err as { code?: string; message?: string };
  if (code === '0A000' && /cached plan must not change result type/.test(message ?? '')) return true;
  if (!LOST_STATEMENT.has(code ?? '')) return false;
  const log = prepared.get(db.client as object);
  if (prepared.delete(db.client as object))
    log?.(
      `named statements are lost between connections (${message}): a pooler that cannot carry them sits ` +
        'in between (PgBouncer before 1.21, or without max_prepared_statements); statements go as text from ' +
        'now on, planned on every request. Set DATABASE_PREPARED_STATEMENTS=off to say so from the start.',
    );
  return true;
}

export function createDb(url: string, opts: DbOptions = {}): Db {
  const log = opts.log ?? (() => {});
  const say = (m: unknown) => log(typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m));
  const db = knex({
    log: { warn: say, error: say, deprecate: say, debug: () => {} },
    client: 'pg',
    connection: { connectionString: url, application_name: opts.applicationName ?? 'portico' },
    // fail fast while the database is down, so requests answer 503 instead of hanging
    acquireConnectionTimeout: 5000,
    pool: { min: 0, max: opts.poolMax ?? 10, idleTimeoutMillis: 30_000 },
  });
  if (opts.preparedStatements) prepared.set(db.client as object, say);
  return db;
}

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

type Migration = { up: (db: Knex) => Promise<void>; down?: (db: Knex) => Promise<void> };

/**
 * Migrations are imported by our own code rather than by knex, so the same files load under
 * tsx (npm start) and under vitest's module runner (tests) without a build step, and compiled
 * from dist/migrations in production. A migration keeps its `.ts` name in the database either
 * way, so a database migrated from source runs compiled and back. Exported for the tests that
 * migrate step by step (a migration that rewrites rows written before it).
 */
export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return readdirSync(migrationsDir)
      .filter((f) => /^\d+_[\w-]+\.[jt]s$/.test(f))
      .sort();
  },
  getMigrationName: (file) => file.replace(/\.js$/, '.ts'),
  async getMigration(file) {
    const mod = (await import(pathToFileURL(path.join(migrationsDir, file)).href)) as Migration;
    return { up: mod.up, down: mod.down ?? (async () => {}) };
  },
};

export async function migrate(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/** Create a database if it does not exist yet (for the embedded server's first start). */
export async function ensureDatabase(adminUrl: string, name: string, template?: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount) return false;
    const from = template ? ` template ${client.escapeIdentifier(template)}` : '';
    await client.query(`create database ${client.escapeIdentifier(name)}${from}`);
    return true;
  } finally {
    await client.end();
  }
}

/**
 * A pg.Pool look-alike over knex's own pool, so connect-pg-simple shares the app's connections
 * instead of opening a second pool.
 */
export function pgPoolAdapter(db: Db) {
  type Conn = {
    query: (q: string | { name: string; text: string; values?: unknown[] }, params?: unknown[]) => Promise<unknown>;
    __knex__disposed?: unknown;
  };
  const client = db.client as { acquireConnection(): Promise<Conn>; releaseConnection(c: Conn): Promise<void> };
  return {
    /** `name`: run it as that named statement where the database uses them (usesPreparedStatements) */
    async query(sql: string, params?: unknown[], name?: string) {
      const conn = await client.acquireConnection();
      try {
        if (name && usesPreparedStatements(db)) {
          try {
            return await conn.query({ name, text: sql, values: params });
          } catch (err) {
            if (!retriesAsText(db, err)) throw err;
            // it may hold a statement that no longer fits: not handed out again
            conn.__knex__disposed = 'a named statement failed';
          }
        }
        return await conn.query(sql, params);
      } finally {
        await client.releaseConnection(conn);
      }
    },
  };
}
