import type { Knex } from 'knex';

/**
 * Invitations: adding a person whose email already has a login gives that login a membership that
 * waits for them to accept it (signing in with their own password), instead of telling the admin the
 * address is taken. While it waits the membership is also disabled, so nothing lets it act, and it
 * shows the name and email the admin typed, never the login's own. An activation or invitation token
 * names the membership it opens, so two invitations of one login do not replace each other's links.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table memberships
      add column invited_at timestamptz,
      add column invited_name varchar(200),
      add column invited_email varchar(254);
    alter table user_tokens
      add column membership_id uuid,
      add foreign key (tenant_id, membership_id) references memberships (tenant_id, id) on delete cascade;
    create index user_tokens_membership_idx on user_tokens (tenant_id, membership_id) where membership_id is not null;
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    alter table user_tokens drop column membership_id;
    alter table memberships drop column invited_at, drop column invited_name, drop column invited_email;
  `);
}
