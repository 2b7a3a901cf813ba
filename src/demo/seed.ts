import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/boot.js';
import { BULK_FREIGHT, seedBulkAssets } from './bulk.js';
import { demoLoginLink, DEMO_SITE_VIEWER } from './sites.js';
import { DEMO_LOGINS, DEMO_PASSWORD, hasDemoData, seedDemo } from './data.js';

/**
 * `npm run seed`: fills the demo tenant once; run against an empty database.
 * `npm run seed -- --assets 1000000`: adds that many assets to the demo tenant (seeding the demo first if needed).
 */
try {
  const { values } = parseArgs({ options: { assets: { type: 'string' } } });
  const assets = values.assets === undefined ? undefined : Number(values.assets.replaceAll(/[_,]/g, ''));
  if (assets !== undefined && !(Number.isInteger(assets) && assets > 0))
    throw new ConfigError(`--assets wants a whole number above 0, not ${JSON.stringify(values.assets)}`);
  const config = loadConfig();
  if (config.env === 'production')
    throw new ConfigError(
      'npm run seed is refused with NODE_ENV=production: the demo logins share a published password.',
    );
  const database = await openDatabase(config, { debug: () => {}, warn: () => {} });
  try {
    if (assets !== undefined) {
      const n = (x: number) => x.toLocaleString('en-GB');
      const result = await seedBulkAssets(database.db, {
        assets,
        onProgress: (p) => console.log(`assets: ${n(p.done)} / ${n(p.total)} (${p.seconds.toFixed(1)} s)`),
      });
      console.log(
        `Added ${n(result.assets)} assets (${n(result.bulkFreight)} of them to ${BULK_FREIGHT.title})` +
          ` in ${result.seconds.toFixed(1)} s.`,
      );
      console.log(`${BULK_FREIGHT.title}'s company admin: ${BULK_FREIGHT.adminEmail} (password "${DEMO_PASSWORD}")`);
    } else if (await hasDemoData(database.db)) {
      console.log('The demo data is already there.');
    } else {
      const scale = Number(process.env.SEED_SCALE ?? 1);
      await seedDemo(database.db, { scale });
      console.log('Seeded the demo data.');
    }
    console.log(`Demo logins (password "${DEMO_PASSWORD}"): ${DEMO_LOGINS.map((l) => l.email).join(', ')}`);
    const link = await demoLoginLink(database.db, config.sessionSecret, config.baseUrl, new Date());
    if (link) console.log(`Login link of ${DEMO_SITE_VIEWER} (site map only): ${link}`);
  } finally {
    await database.close();
  }
} catch (err) {
  console.error(
    `portico: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
}
