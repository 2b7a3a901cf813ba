import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Trx } from '../../src/db/index.js';
import { inTenant, openTenantConnection, queryInTenant } from '../../src/db/tenant.js';
import { makeCustomer, makeTenant } from '../support/factories.js';
import { testDatabase } from '../support/db.js';

const { db } = await testDatabase();
const mine = await makeTenant(db);
const theirs = await makeTenant(db);
await makeCustomer(db, mine.id, { title: 'Mine' });
await makeCustomer(db, theirs.id, { title: 'Theirs' });

describe('tenant isolation in PostgreSQL', () => {
  it('shows a query that forgets its tenant filter only the rows of the tenant it runs for', async () => {
    const titles = await inTenant(db, mine.id, (trx) => trx('customers').pluck('title'));
    expect(titles).toEqual(['Mine']);
  });

  it('refuses to write a row into another tenant', async () => {
    await expect(
      inTenant(db, mine.id, (trx) =>
        trx('customers').insert({ tenant_id: theirs.id, title: 'Sneaky', account_id: 'X-1' }),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it("cannot update or delete another tenant's rows even by id", async () => {
    const updated = await inTenant(db, mine.id, (trx) =>
      trx('customers').where({ tenant_id: theirs.id }).update({ title: 'Owned' }),
    );
    const deleted = await inTenant(db, mine.id, (trx) => trx('customers').where({ tenant_id: theirs.id }).del());
    expect([updated, deleted]).toEqual([0, 0]);
    expect(await db('customers').where({ tenant_id: theirs.id }).pluck('title')).toEqual(['Theirs']);
  });

  it('sees nothing at all when no tenant is set for the transaction', async () => {
    const rows = await db.transaction(async (trx) => {
      await trx.raw("select set_config('role', 'portico_app', true)");
      return trx('customers').select('id');
    });
    expect(rows).toEqual([]);
  });
});

// ---- the whole catalog: every relation with a tenant_id, through every way the app enters a tenant ----

/** The policy every tenant-owned table carries (enableTenantIsolation), as PostgreSQL prints it back. */
const TENANT_CHECK = "(tenant_id = (NULLIF(current_setting('portico.tenant_id'::text, true), ''::text))::uuid)";

/** Every relation of the schema with a tenant_id column, whatever its kind (table, partition, view, ...). */
const relations = (
  await db.raw<{ rows: { name: string; kind: string }[] }>(`
    select c.relname as name, c.relkind as kind from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
       and exists (select 1 from pg_attribute a
                    where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
     order by c.relname`)
).rows;
const tables = relations.filter((r) => r.kind === 'r' || r.kind === 'p').map((r) => r.name);

type Column = { name: string; type: string; notNull: boolean; automatic: boolean; length: number | null };

async function columnsOf(table: string): Promise<Column[]> {
  const { rows } = await db.raw<{ rows: Column[] }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as "notNull",
            (a.atthasdef or a.attidentity <> '' or a.attgenerated <> '') as automatic,
            case when a.atttypmod > 4 and t.typname in ('varchar', 'bpchar') then a.atttypmod - 4 end as length
       from pg_attribute a join pg_type t on t.oid = a.atttypid
      where a.attrelid = ?::regclass and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [table],
  );
  return rows;
}

/** A value a column's `col in ('a', 'b')` check admits (the first one), for the columns that have such a check. */
async function listedValuesOf(table: string): Promise<Map<string, string>> {
  const { rows } = await db.raw<{ rows: { column: string; def: string }[] }>(
    `select a.attname as column, pg_get_constraintdef(c.oid) as def
       from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
      where c.conrelid = ?::regclass and c.contype = 'c' and cardinality(c.conkey) = 1`,
    [table],
  );
  const values = new Map<string, string>();
  for (const { column, def } of rows) {
    const first = /ARRAY\['([^']*)'/.exec(def) ?? new RegExp(`\\(${column}\\)::text = '([^']*)'`).exec(def);
    if (first) values.set(column, first[1]!);
  }
  return values;
}

const letters = (n: number) => Array.from(randomBytes(n), (b) => String.fromCharCode(65 + (b % 26))).join('');

function valueFor(table: string, c: Column, listed: Map<string, string>): unknown {
  if (listed.has(c.name)) return listed.get(c.name);
  const t = c.type;
  if (t === 'uuid') return randomUUID();
  if (/^(text|character varying|character)\b/.test(t)) return letters(Math.min(c.length ?? 12, 12));
  if (/^(smallint|integer|bigint|numeric|double precision|real)\b/.test(t)) return 1;
  if (t === 'boolean') return false;
  if (t.startsWith('timestamp')) return new Date();
  if (t === 'date') return '2026-01-01';
  if (t === 'json' || t === 'jsonb') return '{}';
  // as text in bytea's hex form: a Buffer would print as a bit string in toQuery()'s SQL text
  if (t === 'bytea') return `\\x${randomBytes(32).toString('hex')}`;
  throw new Error(`no fixture value for ${table}.${c.name} of type ${t}: teach the RLS test's valueFor`);
}

/**
 * A row for `tenantId` in `table`, built from the catalog alone, so a table added tomorrow gets one
 * too: the required columns first, else every column (some checks want optional ones filled).
 */
function fixtureRow(table: string, tenantId: string, columns: Column[], listed: Map<string, string>, all: boolean) {
  const row: Record<string, unknown> = {};
  for (const c of columns) {
    if (c.automatic || (!all && !c.notNull)) continue;
    row[c.name] = valueFor(table, c, listed);
  }
  row.tenant_id = tenantId;
  return row;
}

/** One row in every tenant-owned table for each tenant; foreign keys and triggers are off while it is written. */
async function insertFixtures(tenantIds: string[]): Promise<void> {
  await db.transaction(async (trx: Trx) => {
    await trx.raw('set local session_replication_role = replica');
    for (const table of tables) {
      const columns = await columnsOf(table);
      const listed = await listedValuesOf(table);
      for (const tenantId of tenantIds) {
        const errors: string[] = [];
        for (const all of [false, true]) {
          try {
            await trx.transaction((sp) => sp(table).insert(fixtureRow(table, tenantId, columns, listed, all)));
            errors.length = 0;
            break;
          } catch (err) {
            errors.push((err as Error).message);
          }
        }
        if (errors.length) throw new Error(`cannot build a fixture row for ${table}: ${errors.join(' / ')}`);
      }
    }
  });
}

const a = await makeTenant(db, { name: 'Tenant A' });
const b = await makeTenant(db, { name: 'Tenant B' });
await insertFixtures([a.id, b.id]);
const columnsByTable = new Map(await Promise.all(tables.map(async (t) => [t, await columnsOf(t)] as const)));
const listedByTable = new Map(await Promise.all(tables.map(async (t) => [t, await listedValuesOf(t)] as const)));
/** A fresh row of tenant B for `table`, as SQL text (queryInTenant and raw connections take no parameters). */
const insertForB = (table: string) =>
  db(table)
    .insert(fixtureRow(table, b.id, columnsByTable.get(table)!, listedByTable.get(table)!, true))
    .toQuery();
const selectTenants = (table: string) => `select tenant_id from "${table}"`;

type Seen = { table: string; tenants: string[] };
type Path = {
  name: string;
  /** the tenant_id of every row each table shows to tenant A, with no filter */
  read(tableNames: string[]): Promise<Seen[]>;
  /** the error of inserting tenant B's row while bound to A, or null when it went in */
  insert(table: string): Promise<string | null>;
};
const distinct = (rows: { tenant_id: string }[]) => [...new Set(rows.map((r) => r.tenant_id))].sort();
const errorOf = (fn: () => Promise<unknown>) =>
  fn().then(
    () => null,
    (err: unknown) => (err as Error).message,
  );

const PATHS: Path[] = [
  {
    name: 'inTenant (and asActor)',
    read: (names) =>
      inTenant(db, a.id, async (trx) => {
        const seen: Seen[] = [];
        for (const table of names) seen.push({ table, tenants: distinct(await trx(table).select('tenant_id')) });
        return seen;
      }),
    insert: (table) => errorOf(() => inTenant(db, a.id, (trx) => trx.raw(insertForB(table)))),
  },
  {
    name: 'queryInTenant',
    read: async (names) => {
      const results = await queryInTenant(db, a.id, names.map(selectTenants));
      return names.map((table, i) => ({ table, tenants: distinct(results[i]!.rows as { tenant_id: string }[]) }));
    },
    insert: (table) => errorOf(() => queryInTenant(db, a.id, [insertForB(table)])),
  },
  {
    name: 'openTenantConnection',
    read: async (names) => {
      const conn = await openTenantConnection(db, a.id);
      try {
        const seen: Seen[] = [];
        for (const table of names)
          seen.push({ table, tenants: distinct((await conn.client.query(selectTenants(table))).rows) });
        return seen;
      } finally {
        await conn.finish();
      }
    },
    insert: async (table) => {
      const conn = await openTenantConnection(db, a.id);
      const error = await errorOf(() => conn.client.query(insertForB(table)));
      // whatever happened, nothing is kept: the transaction is rolled back with the connection
      await conn.abandon();
      return error;
    },
  },
];

describe('row-level security over every tenant-owned table', () => {
  it('finds the tables it checks in the catalog, the tenant-owned ones among them', () => {
    expect(tables).toEqual(expect.arrayContaining(['customers', 'assets', 'tickets', 'usage_records', 'user_tokens']));
  });

  it('binds every table with a tenant_id to its tenant for the app role, with no view or copy around it', async () => {
    const { rows: role } = await db.raw<{ rows: { rolsuper: boolean; rolbypassrls: boolean }[] }>(
      "select rolsuper, rolbypassrls from pg_roles where rolname = 'portico_app'",
    );
    expect(role).toEqual([{ rolsuper: false, rolbypassrls: false }]);
    const { rows } = await db.raw<{
      rows: {
        name: string;
        kind: string;
        rls: boolean;
        owned_by_app: boolean;
        app_reads: boolean;
        invoker: boolean;
        policies: { permissive: boolean; qual: string | null; check: string | null }[];
      }[];
    }>(
      `
      select c.relname as name, c.relkind as kind, c.relrowsecurity as rls,
             pg_get_userbyid(c.relowner) = 'portico_app' as owned_by_app,
             has_table_privilege('portico_app', c.oid, 'select') as app_reads,
             coalesce('security_invoker=true' = any(c.reloptions) or 'security_invoker=on' = any(c.reloptions), false)
               as invoker,
             coalesce((select json_agg(json_build_object(
                 'permissive', p.polpermissive,
                 'qual', pg_get_expr(p.polqual, p.polrelid),
                 'check', pg_get_expr(p.polwithcheck, p.polrelid)))
               from pg_policy p
              where p.polrelid = c.oid
                and (p.polroles = '{0}' or 'portico_app'::regrole = any(p.polroles))), '[]') as policies
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relname = any(?)`,
      [relations.map((r) => r.name)],
    );
    const problems: string[] = [];
    for (const r of rows) {
      if (r.kind === 'v') {
        // a view runs as its owner unless it says otherwise, which row-level security does not bind
        if (r.app_reads && !r.invoker) problems.push(`${r.name}: a view the app reads without security_invoker`);
        continue;
      }
      if (r.kind === 'm' || r.kind === 'f') {
        if (r.app_reads) problems.push(`${r.name}: the app reads a copy that row-level security cannot bind`);
        continue;
      }
      if (!r.rls) problems.push(`${r.name}: row-level security is not enabled`);
      if (r.owned_by_app) problems.push(`${r.name}: owned by the app role, which its policies would not bind`);
      const permissive = r.policies.filter((p) => p.permissive);
      if (!permissive.length) problems.push(`${r.name}: no policy admits the app role`);
      for (const p of permissive) {
        if (p.qual !== TENANT_CHECK) problems.push(`${r.name}: a policy reads rows by ${p.qual}`);
        if (p.check !== null && p.check !== TENANT_CHECK)
          problems.push(`${r.name}: a policy writes rows by ${p.check}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('has fixture rows of both tenants in every table', async () => {
    const empty: string[] = [];
    for (const table of tables) {
      const seen = distinct(await db(table).whereIn('tenant_id', [a.id, b.id]).select('tenant_id'));
      if (seen.length !== 2) empty.push(table);
    }
    expect(empty).toEqual([]);
  });

  describe.each(PATHS)('through $name', (path) => {
    it("shows a query without a tenant filter its own tenant's rows, none of another's, in every table", async () => {
      const seen = await path.read(tables);
      expect(seen.filter((s) => s.tenants.join() !== a.id)).toEqual([]);
    });

    it('refuses an insert for another tenant, in every table', async () => {
      const admitted: string[] = [];
      for (const table of tables) {
        const error = await path.insert(table);
        if (!error || !/row-level security/.test(error)) admitted.push(`${table}: ${error ?? 'inserted'}`);
      }
      expect(admitted).toEqual([]);
    });
  });
});
