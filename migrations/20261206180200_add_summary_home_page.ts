import type { Knex } from 'knex';

/**
 * The customer's home page choice is now honoured (customer users are sent to it from `/`), so the
 * summary page needs a name of its own among the choices. New customers start on the summary, as
 * everyone did before the choice was read; customers who chose a page keep it.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw("alter table customers alter column home_page set default 'summary'");
}

export async function down(db: Knex): Promise<void> {
  await db.raw("alter table customers alter column home_page set default 'assets'");
}
