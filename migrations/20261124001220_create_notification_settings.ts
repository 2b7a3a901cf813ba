import type { Knex } from 'knex';

/**
 * A person's choices about notification mail, one row per kind they changed; no row means the
 * kind is on. People are not tenant-owned (one login may serve several tenants), so neither is this.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table notification_settings (
      user_id uuid not null references users (id) on delete cascade,
      kind varchar(30) not null check (kind in ('renewal_reminders', 'ticket_updates')),
      enabled boolean not null,
      updated_at timestamptz not null default now(),
      primary key (user_id, kind)
    );
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table notification_settings');
}
