import type { Knex } from 'knex';

/**
 * Staff manage a customer's devices directly (issue 22): registering one and changing its name or
 * identifier are kept in the asset's history beside the requests, as requests applied at once, so
 * the customer sees them on the asset's page.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table asset_requests drop constraint asset_requests_kind_check;
    alter table asset_requests add constraint asset_requests_kind_check check (kind in (
      'activation', 'reactivation', 'deactivation', 'renewal_confirmation', 'group_move',
      'registration', 'details_change'));
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    delete from asset_requests where kind in ('registration', 'details_change');
    alter table asset_requests drop constraint asset_requests_kind_check;
    alter table asset_requests add constraint asset_requests_kind_check check (kind in (
      'activation', 'reactivation', 'deactivation', 'renewal_confirmation', 'group_move'));
  `);
}
