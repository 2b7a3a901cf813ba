import type { Knex } from 'knex';

/**
 * Deleting a customer user removes the login too when it is their last membership. Row-level
 * security hides other tenants' memberships from a tenant's transaction, so the "last one?" check
 * runs as the table owner, inside this one narrow function, in the caller's transaction.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create function delete_user_without_memberships(p_user_id uuid) returns boolean
      language sql security definer set search_path = public
    as $$
      with gone as (
        delete from users u
        where u.id = p_user_id and not exists (select 1 from memberships m where m.user_id = p_user_id)
        returning 1
      )
      select exists (select 1 from gone)
    $$;
    revoke all on function delete_user_without_memberships(uuid) from public;
    grant execute on function delete_user_without_memberships(uuid) to portico_app;
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop function delete_user_without_memberships(uuid)');
}
