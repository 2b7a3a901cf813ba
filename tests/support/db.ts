import { randomBytes } from 'node:crypto';
import { afterAll, inject } from 'vitest';
import { createDb, ensureDatabase, type Db } from '../../src/db/index.js';
import { withDatabase } from './global-setup.js';

/**
 * A fresh database for this test file, cloned from the migrated template, dropped after the file.
 * Call at the top level of a test file: `const { db } = await testDatabase();`
 */
export async function testDatabase(): Promise<{ db: Db; url: string }> {
  const adminUrl = inject('adminUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(adminUrl, name, inject('templateDb'));
  const url = withDatabase(adminUrl, name);
  // as the app opens it (DATABASE_PREPARED_STATEMENTS is on by default)
  const db = createDb(url, { poolMax: 5, preparedStatements: true });
  afterAll(async () => {
    await db.destroy();
    const admin = createDb(adminUrl, { poolMax: 1 });
    await admin.raw(`drop database if exists ${name} with (force)`);
    await admin.destroy();
  });
  return { db, url };
}
