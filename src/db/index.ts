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

/** The databases whose hot statements go as named statements (createDb's `preparedStatements`). */
const prepared = new WeakSet<object>();

/** Whether queryInTenant and the session read run named statements on this database (off by default). */
export function usesPreparedStatements(db: Db): boolean {
  return prepared.has(db.client as object);
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
  if (opts.preparedStatements) prepared.add(db.client as object);
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
  };
  const client = db.client as { acquireConnection(): Promise<Conn>; releaseConnection(c: Conn): Promise<void> };
  return {
    /** `name`: run it as that named statement where the database uses them (usesPreparedStatements) */
    async query(sql: string, params?: unknown[], name?: string) {
      const conn = await client.acquireConnection();
      try {
        if (name && usesPreparedStatements(db)) return await conn.query({ name, text: sql, values: params });
        return await conn.query(sql, params);
      } finally {
        await client.releaseConnection(conn);
      }
    },
  };
}
