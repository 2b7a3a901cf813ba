import type { Knex } from 'knex';

/**
 * The renewal jobs read only what is due, in keyset batches on these indexes, instead of walking
 * every asset in primary-key order (random heap reads: 13 s for a million assets, cold):
 * - yearly and quarterly terms by (renewal day, id): the reminders read the 4-week window, the
 *   renewal job the days up to today. It answers everything the old (tenant_id, next_renewal_on)
 *   index did, which it replaces.
 * - active monthly plans by (term end, id): the rollover on the 1st reads the month that ended.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create index assets_renewal_day_idx on assets (tenant_id, next_renewal_on, id) where next_renewal_on is not null;
    drop index assets_renewal_idx;
    create index assets_monthly_term_idx on assets (tenant_id, term_end, id)
      where plan = 'monthly' and status = 'active';
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    create index assets_renewal_idx on assets (tenant_id, next_renewal_on) where next_renewal_on is not null;
    drop index assets_renewal_day_idx, assets_monthly_term_idx;
  `);
}
