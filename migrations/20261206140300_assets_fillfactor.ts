import type { Knex } from 'knex';

/**
 * Room on each page of assets for the row's next version, so that an update of columns no index
 * holds (a device's last location, arriving all day long) is a HOT update: the new version stays
 * on its page and no index gets an entry. At fillfactor 100 a freshly loaded page has no room, and
 * each such update wrote to every index of the table. It applies to pages written from now on; an
 * existing large table gets it on a rewrite (VACUUM FULL, or pg_repack without the lock).
 */
export async function up(db: Knex): Promise<void> {
  await db.raw('alter table assets set (fillfactor = 85)');
}

export async function down(db: Knex): Promise<void> {
  await db.raw('alter table assets reset (fillfactor)');
}
