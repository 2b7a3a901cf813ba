import type { Knex } from 'knex';

/**
 * A user is one login for the whole deployment, but row-level security shows a tenant's transaction
 * only that tenant's memberships. When a customer is deleted, its users who are left with no
 * membership anywhere are disabled; this function answers that one question across tenants and
 * reveals nothing else (security definer, owned by the migrating role, which row-level security does
 * not bind).
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create function user_ids_without_other_membership(user_ids uuid[], customer_tenant uuid, customer uuid)
    returns setof uuid
    language sql stable security definer
    set search_path = pg_catalog, public
    as $$
      select u.id from unnest(user_ids) as u(id)
      where not exists (
        select 1 from public.memberships m
        where m.user_id = u.id
          and not (m.tenant_id = customer_tenant and m.customer_id is not distinct from customer)
      )
    $$;
    revoke all on function user_ids_without_other_membership(uuid[], uuid, uuid) from public;
    grant execute on function user_ids_without_other_membership(uuid[], uuid, uuid) to portico_app;
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop function user_ids_without_other_membership(uuid[], uuid, uuid)');
}
