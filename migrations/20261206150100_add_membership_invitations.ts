import type { Knex } from 'knex';

/**
 * Invitations: adding a person whose email already has a login gives that login a membership that
 * waits for them to accept it (signing in with their own password), instead of telling the admin the
 * address is taken. While it waits the membership is also disabled, so nothing lets it act, and it
 * shows the name and email the admin typed, never the login's own. An activation or invitation token
 * names the membership it opens, so two invitations of one login do not replace each other's links.
 * user_tokens is a deployment (reference) table, which may not point into a tenant table by a foreign
 * key (docs/scaling.md): a membership's tokens go with it by a statement trigger instead.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table memberships
      add column invited_at timestamptz,
      add column invited_name varchar(200),
      add column invited_email varchar(254);
    alter table user_tokens add column membership_id uuid;
    create index user_tokens_membership_idx on user_tokens (tenant_id, membership_id) where membership_id is not null;

    create function user_tokens_follow_memberships() returns trigger language plpgsql as $$
    begin
      delete from user_tokens t using gone g where t.tenant_id = g.tenant_id and t.membership_id = g.id;
      return null;
    end $$;
    create trigger user_tokens_follow_memberships after delete on memberships
      referencing old table as gone for each statement execute function user_tokens_follow_memberships();
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    drop trigger user_tokens_follow_memberships on memberships;
    drop function user_tokens_follow_memberships();
    alter table user_tokens drop column membership_id;
    alter table memberships drop column invited_at, drop column invited_name, drop column invited_email;
  `);
}
