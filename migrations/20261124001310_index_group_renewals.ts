import type { Knex } from 'knex';

/**
 * The groups page counts, per group, the active assets renewing within 28 days, bounded at 1,001.
 * assets_renewal_idx (tenant, day) would read the whole tenant's 28-day window for every group and
 * assets_group_idx (tenant, group, status) every active asset of the group; this partial index makes
 * each count one short range: the group's active assets, by renewal day.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create index assets_group_renewal_idx on assets (tenant_id, group_id, next_renewal_on)
      where status = 'active' and next_renewal_on is not null
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop index assets_group_renewal_idx');
}
