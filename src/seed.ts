import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/boot.js';
import { DEMO_LOGINS, DEMO_PASSWORD, hasDemoData, seedDemo } from './services/demo-data.js';

/** `npm run seed`: fills the demo tenant once; run against an empty database. */
try {
  const config = loadConfig();
  const database = await openDatabase(config, { debug: () => {}, warn: () => {} });
  try {
    if (await hasDemoData(database.db)) {
      console.log('The demo data is already there.');
    } else {
      const scale = Number(process.env.SEED_SCALE ?? 1);
      await seedDemo(database.db, { scale });
      console.log('Seeded the demo data.');
    }
    console.log(`Demo logins (password "${DEMO_PASSWORD}"): ${DEMO_LOGINS.map((l) => l.email).join(', ')}`);
  } finally {
    await database.close();
  }
} catch (err) {
  console.error(`portico: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
