import path from 'node:path';
import type { Config } from '../config.js';
import { runningEmbeddedPostgres, startEmbeddedPostgres, type EmbeddedServer } from './embedded.js';
import { createDb, ensureDatabase, migrate, type Db } from './index.js';

export type OpenDatabase = {
  db: Db;
  embedded: EmbeddedServer | null;
  /** the migrations this opening applied (none when the schema was up to date) */
  applied: string[];
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
  return {
    db,
    embedded,
    applied,
    async close() {
      await db.destroy();
      await embedded?.stop();
    },
  };
}
