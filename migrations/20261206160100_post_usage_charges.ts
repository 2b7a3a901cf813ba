import type { Knex } from 'knex';

/**
 * Usage charges move the balance. Each customer bills by one model: prepaid (the default) is
 * charged as priced usage arrives, and its invoices are statements; postpaid is charged when an
 * invoice is issued (and credited back when an issued one is voided). Statement-level triggers on
 * usage_records post one 'usage' ledger movement per prepaid customer per statement (an API batch,
 * a CSV chunk, a re-pricing) in the same transaction as the records, so the sum of a customer's
 * usage movements is always the sum of its priced usage (charge_minor of the rollups: records not
 * in progress), whatever writes, re-prices or deletes the records. The customer row is locked by
 * the balance update before the rollups' buckets (trigger names fire in alphabetical order, and
 * customers in id order), so concurrent batches queue behind each other, neither losing nor double
 * counting a charge. over_limit_notified_at remembers that the billing contacts were told the
 * account went over its limit, so they are told once per time it happens.
 */
const CHARGE = `case when r.status <> 'in_progress' then r.price_minor else 0 end`;

/** The trigger body: one movement per (tenant, customer) of the signed rows, in customer order. */
const post = (source: string, label: string) => `
    declare m record;
    begin
      for m in select s.tenant_id, s.customer_id, sum(s.charge)::bigint as charge,
                      count(*) filter (where s.counted) as n
                 from (${source}) as s
                group by 1, 2 order by 1, 2 loop
        if m.charge <> 0 then
          perform post_usage_charge(m.tenant_id, m.customer_id, m.charge, '${label}: ' || m.n || ' records');
        end if;
      end loop;
      return null;
    end`;

export async function up(db: Knex): Promise<void> {
  await db.raw(`
    alter table customers
      add column billing_model varchar(8) not null default 'prepaid' check (billing_model in ('prepaid', 'postpaid')),
      add column over_limit_notified_at timestamptz;

    alter table billing_ledger drop constraint billing_ledger_kind_check;
    alter table billing_ledger add constraint billing_ledger_kind_check
      check (kind in ('payment', 'credit_note', 'debit_limit', 'invoice', 'adjustment', 'usage'));

    -- charges a prepaid customer (a negative charge credits it); postpaid customers are left alone
    create function post_usage_charge(p_tenant uuid, p_customer uuid, p_charge bigint, p_reference text)
      returns void language plpgsql as $$
    declare c record;
    begin
      update customers set balance_minor = balance_minor - p_charge
       where tenant_id = p_tenant and id = p_customer and billing_model = 'prepaid'
      returning balance_minor, debit_limit_minor, currency into c;
      if found then
        insert into billing_ledger (tenant_id, customer_id, kind, amount_minor, currency, balance_after_minor,
          debit_limit_after_minor, reference)
        values (p_tenant, p_customer, 'usage', -p_charge, c.currency, c.balance_minor, c.debit_limit_minor,
          p_reference);
      end if;
    end $$;

    create function usage_charges_after_insert() returns trigger language plpgsql as $$
    ${post(`select r.tenant_id, r.customer_id, ${CHARGE} as charge, true as counted from new_rows r`, 'Usage')};
    $$;

    create function usage_charges_after_delete() returns trigger language plpgsql as $$
    ${post(
      `select r.tenant_id, r.customer_id, -(${CHARGE}) as charge, true as counted from old_rows r`,
      'Usage removed',
    )};
    $$;

    -- a re-pricing (or a call that ended) posts the difference; a record moved to another customer
    -- leaves one and charges the other
    create function usage_charges_after_update() returns trigger language plpgsql as $$
    ${post(
      `select r.tenant_id, r.customer_id, ${CHARGE} as charge, true as counted from new_rows r
        union all
       select r.tenant_id, r.customer_id, -(${CHARGE}), false from old_rows r`,
      'Usage re-priced',
    )};
    $$;

    create trigger usage_charges_insert after insert on usage_records
      referencing new table as new_rows for each statement execute function usage_charges_after_insert();
    create trigger usage_charges_delete after delete on usage_records
      referencing old table as old_rows for each statement execute function usage_charges_after_delete();
    create trigger usage_charges_update after update on usage_records
      referencing old table as old_rows new table as new_rows
        for each statement execute function usage_charges_after_update();
  `);
}

export async function down(db: Knex): Promise<void> {
  await db.raw(`
    drop trigger usage_charges_insert on usage_records;
    drop trigger usage_charges_delete on usage_records;
    drop trigger usage_charges_update on usage_records;
    drop function usage_charges_after_insert(), usage_charges_after_delete(), usage_charges_after_update();
    drop function post_usage_charge(uuid, uuid, bigint, text);
    alter table billing_ledger drop constraint billing_ledger_kind_check;
    alter table billing_ledger add constraint billing_ledger_kind_check
      check (kind in ('payment', 'credit_note', 'debit_limit', 'invoice', 'adjustment'));
    alter table customers drop column billing_model, drop column over_limit_notified_at;
  `);
}
