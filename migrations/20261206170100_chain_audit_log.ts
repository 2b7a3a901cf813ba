import type { Knex } from 'knex';

/**
 * The audit log becomes tamper-evident: each tenant's entries form one SHA-256 hash chain. The
 * chain is kept by a BEFORE INSERT trigger, so every writer (the audit() helper and the jobs'
 * set-based INSERT … SELECT alike) is chained in the change's own transaction without knowing it;
 * an advisory transaction lock per tenant keeps concurrent writers on one chain (no fork).
 *
 * hash = sha256(prev_hash || canonical JSON of the entry without `hash`: keys sorted by UTF-8 bytes,
 * no whitespace, `at` in UTC with microseconds). The first entry's prev_hash is 64 zeros.
 * Rows written before this migration are chained here, per tenant in id order.
 *
 * portico_app (the role tenant transactions run as) keeps SELECT and INSERT only; a trigger refuses
 * UPDATE and DELETE for every role unless the transaction sets portico.audit_rewrite = 'on' (an
 * owner-only repair, never set by the application).
 */
export async function up(db: Knex): Promise<void> {
  await db.raw(`
    create function audit_canonical_json(j jsonb) returns text language plpgsql immutable as $$
    begin
      case jsonb_typeof(j)
        when 'object' then
          return '{' || coalesce((select string_agg(to_jsonb(k)::text || ':' || audit_scalar_or_nested(v), ','
                                                    order by k collate "C")
                                  from jsonb_each(j) as e(k, v)), '') || '}';
        when 'array' then
          return '[' || coalesce((select string_agg(audit_scalar_or_nested(v), ',' order by i)
                                  from jsonb_array_elements(j) with ordinality as a(v, i)), '') || ']';
        else
          return j::text;
      end case;
    end $$;
    -- a scalar's JSON text at once; only objects and arrays take another call of the function
    create function audit_scalar_or_nested(j jsonb) returns text language sql immutable as $$
      select case when jsonb_typeof(j) in ('object', 'array') then audit_canonical_json(j) else j::text end
    $$;

    alter table audit_log add column chain_seq bigint, add column prev_hash char(64), add column hash char(64);

    create function audit_entry_document(l audit_log) returns jsonb language sql stable as $$
      select jsonb_build_object(
        'id', l.id, 'tenant_id', l.tenant_id, 'seq', l.chain_seq,
        'at', to_char(l.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'actor_user_id', l.actor_user_id, 'actor_label', l.actor_label, 'customer_id', l.customer_id,
        'entity_type', l.entity_type, 'entity_id', l.entity_id, 'action', l.action,
        'before', l.before, 'after', l.after, 'prev_hash', l.prev_hash)
    $$;

    -- the same text as audit_canonical_json(audit_entry_document(l)), written out in sorted key order: the
    -- trigger runs it on every audited change, and building and re-sorting a jsonb there costs several times more
    create function audit_entry_hash(l audit_log) returns char(64) language plpgsql stable as $$
    begin
      return encode(sha256(convert_to(l.prev_hash
        || '{"action":' || to_jsonb(l.action)::text
        || ',"actor_label":' || to_jsonb(l.actor_label)::text
        || ',"actor_user_id":' || coalesce(to_jsonb(l.actor_user_id)::text, 'null')
        || ',"after":' || coalesce(audit_canonical_json(l.after), 'null')
        || ',"at":"' || to_char(l.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'
        || ',"before":' || coalesce(audit_canonical_json(l.before), 'null')
        || ',"customer_id":' || coalesce(to_jsonb(l.customer_id)::text, 'null')
        || ',"entity_id":' || to_jsonb(l.entity_id)::text
        || ',"entity_type":' || to_jsonb(l.entity_type)::text
        || ',"id":' || l.id::text
        || ',"prev_hash":' || to_jsonb(l.prev_hash)::text
        || ',"seq":' || l.chain_seq::text
        || ',"tenant_id":' || to_jsonb(l.tenant_id)::text
        || '}', 'UTF8')), 'hex');
    end $$;

    do $$
    declare
      r audit_log;
      current_tenant uuid;
      seq bigint := 0;
      prev char(64);
    begin
      for r in select * from audit_log order by tenant_id, id loop
        if current_tenant is distinct from r.tenant_id then
          current_tenant := r.tenant_id;
          seq := 0;
          prev := repeat('0', 64);
        end if;
        seq := seq + 1;
        r.chain_seq := seq;
        r.prev_hash := prev;
        prev := audit_entry_hash(r);
        update audit_log set chain_seq = seq, prev_hash = r.prev_hash, hash = prev
          where tenant_id = r.tenant_id and id = r.id;
      end loop;
    end $$;

    alter table audit_log alter column chain_seq set not null, alter column prev_hash set not null,
      alter column hash set not null;
    create unique index audit_log_chain_idx on audit_log (tenant_id, chain_seq);

    create function audit_log_chain() returns trigger language plpgsql as $$
    declare
      head record;
    begin
      perform pg_advisory_xact_lock(hashtextextended('portico.audit_log.' || new.tenant_id::text, 0));
      select chain_seq, hash into head from audit_log
        where tenant_id = new.tenant_id order by chain_seq desc limit 1;
      new.chain_seq := coalesce(head.chain_seq, 0) + 1;
      new.prev_hash := coalesce(head.hash, repeat('0', 64));
      new.hash := audit_entry_hash(new);
      return new;
    end $$;
    create trigger audit_log_chain before insert on audit_log for each row execute function audit_log_chain();

    create function audit_log_refuse_rewrite() returns trigger language plpgsql as $$
    begin
      if coalesce(current_setting('portico.audit_rewrite', true), '') <> 'on' then
        raise exception 'the audit log is append-only' using errcode = 'insufficient_privilege';
      end if;
      return case when tg_op = 'DELETE' then old else new end;
    end $$;
    create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function audit_log_refuse_rewrite();

    revoke update, delete, truncate on audit_log from portico_app;
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    drop trigger audit_log_append_only on audit_log;
    drop trigger audit_log_chain on audit_log;
    drop function audit_log_refuse_rewrite(), audit_log_chain(), audit_entry_hash(audit_log),
      audit_entry_document(audit_log);
    alter table audit_log drop column chain_seq, drop column prev_hash, drop column hash;
    drop function audit_scalar_or_nested(jsonb), audit_canonical_json(jsonb);
    grant update, delete on audit_log to portico_app;
  `);
}
