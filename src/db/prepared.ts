import { createHash } from 'node:crypto';
import pg from 'pg';

/**
 * Named (prepared) statements, sent as ONE pipeline: for each statement a Parse (only the first time on
 * this connection), Bind, Describe and Execute, then a single Sync. PostgreSQL runs everything before the
 * Sync as one implicit transaction, so a first statement's `set_config(…, true)` holds for the rest and ends
 * with them, as in queryInTenant's multi-statement simple query; but each statement is planned once per
 * connection instead of on every request. Under PgBouncer in transaction pooling this needs PgBouncer 1.21+
 * with `max_prepared_statements` set (it prepares protocol-level statements on whichever server connection
 * runs them); older ones fail with "prepared statement … does not exist" or "… already exists", and the
 * database then goes back to text for good (retriesAsText in db/index.ts) without anyone seeing the error.
 * DATABASE_PREPARED_STATEMENTS=off sends text from the start.
 */

/** One statement with its parameters ($1, $2, …), as knex's `.toSQL().toNative()` gives it. */
export type NativeStatement = { sql: string; bindings: readonly unknown[] };

type Connection = {
  parsedStatements: Record<string, string>;
  stream: { cork?: () => void; uncork?: () => void };
  parse(msg: { text: string; name: string; types?: unknown[] }): void;
  bind(msg: { portal: string; statement: string; values: unknown[]; valueMapper: unknown }): void;
  describe(msg: { type: 'P'; name: string }): void;
  execute(msg: { portal: string; rows?: number }): void;
  sync(): void;
};

/** A statement's name: from its text, so the same text is the same statement on every connection. */
export function statementName(sql: string): string {
  return `portico_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`;
}

const { prepareValue } = (pg as unknown as { utils?: { prepareValue: unknown } }).utils ?? {};

/**
 * pg's own Query, which already gathers one Result per statement (as for a multi-statement simple query),
 * with a submit that writes the whole pipeline at once.
 */
class PipelinedQuery extends (pg.Query as unknown as new (config: { text: string; callback: unknown }) => object) {
  constructor(
    private readonly statements: NativeStatement[],
    callback: (err: Error | null, results: pg.QueryResult | pg.QueryResult[]) => void,
  ) {
    super({ text: statements.map((s) => s.sql).join(';\n'), callback });
  }

  submit(connection: Connection): null {
    connection.stream.cork?.();
    try {
      for (const { sql, bindings } of this.statements) {
        const name = statementName(sql);
        if (connection.parsedStatements[name] === undefined) {
          connection.parse({ text: sql, name });
          // counted as parsed now: if the pipeline fails, the caller throws the connection away
          connection.parsedStatements[name] = sql;
        }
        connection.bind({ portal: '', statement: name, values: [...bindings], valueMapper: prepareValue });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '' });
      }
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }
}

/** Runs the statements as named statements in one round trip and one implicit transaction; one result each. */
export function queryPipelined(client: pg.Client, statements: NativeStatement[]): Promise<pg.QueryResult[]> {
  return new Promise((resolve, reject) => {
    const query = new PipelinedQuery(statements, (err, results) => {
      if (err) return reject(err);
      resolve(Array.isArray(results) ? results : [results]);
    });
    void client.query(query as never);
  });
}
