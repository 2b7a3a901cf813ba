import { describe, expect, it } from 'vitest';
import { testDatabase } from '../support/db.js';

/**
 * The schema stays ready to be distributed by tenant (docs/scaling.md, "Distribution by tenant"): read
 * from the catalog of the migrated database, so a new table, key or index that breaks the rule fails here.
 * A tenant table is one whose tenant_id is NOT NULL.
 */

const { db } = await testDatabase();

/** The tables that hold no tenant's rows (or only name one in passing), and where each goes under Citus. */
const DEPLOYMENT_TABLES: Record<string, 'reference' | 'coordinator'> = {
  tenants: 'reference',
  users: 'reference', // one login for every tenant it works for
  notification_settings: 'reference', // a login's own switches
  user_tokens: 'reference', // a login's links; tenant_id only says which tenant an activation is for
  operators: 'reference', // the deployment's operators: logins of no tenant
  two_factor_logins: 'reference', // a login's second factor, whatever tenants it works for
  two_factor_recovery_codes: 'reference',
  session: 'coordinator',
  rate_limits: 'coordinator',
  job_runs: 'coordinator',
  knex_migrations: 'coordinator',
  knex_migrations_lock: 'coordinator',
};

/** Unique keys of tenant tables that do not lead with tenant_id, and why that is right. */
const UNIQUE_EXCEPTIONS: Record<string, string> = {
  api_keys_hash_idx:
    'the API finds a key by its hash before it knows the tenant; under Citus api_keys is a reference table',
};

/** Indexes of tenant tables that do not lead with tenant_id: each serves a query that crosses tenants on purpose. */
const CROSS_TENANT_INDEXES: Record<string, string> = {
  memberships_user_idx: "sign-in and the role switcher list a login's memberships in every tenant",
  outbox_due_idx: 'the send-mail job delivers what is due, whichever tenant queued it',
  idempotency_keys_created_idx: 'the pruning job drops old keys of every tenant',
  // trigram (GIN) indexes cannot lead with a uuid; their queries filter on tenant_id as well
  customers_title_trgm_idx: 'customer search, inside one tenant (the GIN index has no tenant column)',
  customers_account_id_trgm_idx: 'customer search, inside one tenant (the GIN index has no tenant column)',
  asset_search_text_idx: 'asset search, inside one tenant (the GIN index has no tenant column)',
};

type Table = { table: string; tenant_id: 'not null' | 'null' | null; rls: boolean; policies: string[] };
type Index = { table: string; index: string; unique: boolean; first_column: string | null; def: string };
type ForeignKey = { name: string; from_table: string; to_table: string; columns: string[]; def: string };

const tables: Table[] = (
  await db.raw(`
    select c.relname as table,
           (select case when a.attnotnull then 'not null' else 'null' end from pg_attribute a
             where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped) as tenant_id,
           c.relrowsecurity as rls,
           array(select p.polname::text from pg_policy p where p.polrelid = c.oid order by 1) as policies
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p')
     order by 1`)
).rows;
const indexes: Index[] = (
  await db.raw(`
    select c.relname as table, i.relname as index, x.indisunique as unique,
           (select a.attname from pg_attribute a where a.attrelid = c.oid and a.attnum = x.indkey[0]) as first_column,
           pg_get_indexdef(x.indexrelid) as def
      from pg_index x
      join pg_class i on i.oid = x.indexrelid
      join pg_class c on c.oid = x.indrelid
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public'
     order by 1, 2`)
).rows;
const foreignKeys: ForeignKey[] = (
  await db.raw(`
    select con.conname as name, c.relname as from_table, f.relname as to_table,
           array(select a.attname::text from unnest(con.conkey) with ordinality k(attnum, n)
                   join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum order by k.n) as columns,
           pg_get_constraintdef(con.oid) as def
      from pg_constraint con
      join pg_class c on c.oid = con.conrelid
      join pg_class f on f.oid = con.confrelid
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and con.contype = 'f'
     order by 1`)
).rows;

const tenantTables = new Set(tables.filter((t) => t.tenant_id === 'not null').map((t) => t.table));
const problems = (list: string[]) => list.join('\n');

describe('the schema, ready to distribute by tenant', () => {
  it('knows every table: a tenant table, or a deployment table with its place under Citus', () => {
    const unclassified = tables.filter((t) => !tenantTables.has(t.table) && !(t.table in DEPLOYMENT_TABLES));
    expect(problems(unclassified.map((t) => `${t.table}: no NOT NULL tenant_id and not in DEPLOYMENT_TABLES`))).toBe(
      '',
    );
    const misfiled = Object.keys(DEPLOYMENT_TABLES).filter(
      (t) => tenantTables.has(t) || !tables.some((x) => x.table === t),
    );
    expect(problems(misfiled.map((t) => `${t}: listed as a deployment table, but it is a tenant table or gone`))).toBe(
      '',
    );
    expect(tenantTables.size).toBeGreaterThan(30);
  });

  it("starts every tenant table's primary key and unique keys with tenant_id", () => {
    const broken = indexes.filter(
      (i) => tenantTables.has(i.table) && i.unique && i.first_column !== 'tenant_id' && !(i.index in UNIQUE_EXCEPTIONS),
    );
    expect(problems(broken.map((i) => `${i.table}: ${i.def}`))).toBe('');
    const primaryKeys = indexes.filter((i) => tenantTables.has(i.table) && i.index.endsWith('_pkey'));
    expect(primaryKeys.map((i) => i.table).sort()).toEqual([...tenantTables].sort());
  });

  it('starts every other index of a tenant table with tenant_id, but for the listed cross-tenant ones', () => {
    const broken = indexes.filter(
      (i) =>
        tenantTables.has(i.table) && !i.unique && i.first_column !== 'tenant_id' && !(i.index in CROSS_TENANT_INDEXES),
    );
    expect(problems(broken.map((i) => `${i.table}: ${i.def}`))).toBe('');
    const stale = Object.keys({ ...UNIQUE_EXCEPTIONS, ...CROSS_TENANT_INDEXES }).filter(
      (name) => !indexes.some((i) => i.index === name && i.first_column !== 'tenant_id'),
    );
    expect(problems(stale.map((n) => `${n}: listed as an exception but gone or fixed; drop it from the list`))).toBe(
      '',
    );
  });

  it('joins tenant tables to each other only through keys that carry tenant_id (co-located shards)', () => {
    const broken = foreignKeys.filter(
      (f) => tenantTables.has(f.from_table) && tenantTables.has(f.to_table) && f.columns[0] !== 'tenant_id',
    );
    expect(problems(broken.map((f) => `${f.from_table} ${f.name}: ${f.def}`))).toBe('');
    // and a deployment table never points into a tenant table, which a reference table could not do
    const inward = foreignKeys.filter((f) => !tenantTables.has(f.from_table) && tenantTables.has(f.to_table));
    expect(problems(inward.map((f) => `${f.from_table} ${f.name}: ${f.def}`))).toBe('');
  });

  it('isolates every tenant table with row-level security', () => {
    const open = tables.filter(
      (t) => tenantTables.has(t.table) && (!t.rls || !t.policies.includes('tenant_isolation')),
    );
    expect(problems(open.map((t) => `${t.table}: rls ${t.rls}, policies ${t.policies.join(', ') || 'none'}`))).toBe('');
  });
});
