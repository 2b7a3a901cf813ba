import path from 'node:path';
import type { Config } from '../config.js';
import { runningEmbeddedPostgres, startEmbeddedPostgres, type EmbeddedServer } from './embedded.js';
import { createDb, ensureDatabase, migrate, type Db } from './index.js';
import { openReplica, type ReadReplica } from './replica.js';

export type OpenDatabase = {
  db: Db;
  embedded: EmbeddedServer | null;
  /** the migrations this opening applied (none when the schema was up to date) */
  applied: string[];
  /** DATABASE_REPLICA_URL's replica, or null */
  replica: ReadReplica | null;
  close(): Promise<void>;
};

type Log = { debug(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };

/**
 * DATABASE_URL when set (and nothing is started); otherwise a PostgreSQL of our own in
 * DATA_DIR/postgres. Either way the schema is migrated before anything uses it. With `shareRunning`
 * (the `portico` command line), an embedded server that runs already (the app's) is used as it is,
 * and left running; otherwise one is started for the caller and stopped by close().
 */
export async function openDatabase(
  config: Config,
  logger: Log,
  opts: { shareRunning?: boolean } = {},
): Promise<OpenDatabase> {
  let url = config.databaseUrl;
  let embedded: EmbeddedServer | null = null;
  if (!url) {
    const dir = path.join(config.dataDir, 'postgres');
    embedded =
      (opts.shareRunning ? runningEmbeddedPostgres(dir) : null) ??
      (await startEmbeddedPostgres({ dir, log: (line) => logger.debug({ postgres: line }) }));
    await ensureDatabase(embedded.url(), 'portico');
    url = embedded.url('portico');
  }
  const db = createDb(url, {
    poolMax: config.databasePoolMax,
    preparedStatements: config.databasePreparedStatements,
    log: (message) => logger.warn({ db: message }, 'database'),
  });
  let applied: string[];
  try {
    applied = await migrate(db);
  } catch (err) {
    await db.destroy();
    await embedded?.stop();
    throw err;
  }
  const replica = config.databaseReplicaUrl
    ? openReplica(config.databaseReplicaUrl, {
        maxLagSeconds: config.databaseReplicaMaxLag,
        poolMax: config.databasePoolMax,
        preparedStatements: config.databasePreparedStatements,
        log: (message) => logger.warn({ db: message }, 'read replica'),
      })
    : null;
  await replica?.check(); // says at start whether it serves (never throws)
  return {
    db,
    embedded,
    applied,
    replica,
    async close() {
      await replica?.close();
      await db.destroy();
      await embedded?.stop();
    },
  };
}
