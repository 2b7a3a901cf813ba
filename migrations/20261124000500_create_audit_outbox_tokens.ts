import type { Knex } from 'knex';

/**
 * The audit log (every change, with before and after), the mail outbox (a message is a row
 * before it is a delivery), and single-purpose tokens kept only as SHA-256 hashes.
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create table audit_log (
      tenant_id uuid not null references tenants (id),
      id bigint generated always as identity,
      at timestamptz not null default now(),
      actor_user_id uuid,
      actor_label varchar(300) not null,
      customer_id uuid,
      entity_type varchar(40) not null,
      entity_id varchar(64) not null,
      action varchar(60) not null,
      before jsonb,
      after jsonb,
      primary key (tenant_id, id)
    );
    create index audit_log_customer_idx on audit_log (tenant_id, customer_id, id desc) where customer_id is not null;
    create index audit_log_entity_idx on audit_log (tenant_id, entity_type, entity_id, id desc);

    create table outbox (
      tenant_id uuid not null references tenants (id),
      id bigint generated always as identity,
      channel varchar(10) not null default 'email' check (channel in ('email', 'sms')),
      kind varchar(40) not null,
      recipient varchar(254) not null,
      user_id uuid,
      subject varchar(300) not null,
      body_text text not null,
      body_html text,
      headers jsonb not null default '{}',
      status varchar(10) not null default 'queued' check (status in ('queued', 'sent', 'kept', 'dead')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_error text,
      created_at timestamptz not null default now(),
      sent_at timestamptz,
      primary key (tenant_id, id)
    );
    create index outbox_due_idx on outbox (next_attempt_at) where status = 'queued';
    create index outbox_tenant_idx on outbox (tenant_id, id desc);

    create table user_tokens (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references users (id) on delete cascade,
      tenant_id uuid references tenants (id),
      purpose varchar(20) not null check (purpose in ('activation', 'password_reset', 'login_link')),
      token_hash bytea not null unique,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz,
      revoked_at timestamptz,
      last_used_at timestamptz
    );
    create index user_tokens_user_idx on user_tokens (user_id, purpose);
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw('drop table user_tokens, outbox, audit_log');
}
