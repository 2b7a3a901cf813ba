import { enableTenantIsolation, inTenant } from '../src/db/tenant.js';
import type { Db } from '../src/db/index.js';
import { audit } from '../src/services/platform/index.js';
import { say, type BenchSuite } from './harness.js';

/**
 * The audit log's hash chain (issue 25; target under 1 ms a change at the median): the same audited
 * change, a tenant transaction with one audit entry, timed one at a time, with the chain trigger on,
 * and without it on a copy of the table (same indexes, foreign key and row-level security), on a chain
 * already BENCH_AUDIT_CHAIN entries long; then the same inside one statement, and the hash alone.
 * Printed only; nothing is asserted. `BENCH_ONLY=audit` runs this suite alone (a few seconds).
 */
const CHANGES = Number(process.env.BENCH_AUDIT_CHANGES ?? 400);
const CHAIN = Number(process.env.BENCH_AUDIT_CHAIN ?? 10_000);

const mid = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

async function timeChanges(db: Db, tenantId: string, table: string, count: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await inTenant(db, tenantId, async (trx) => {
      if (table === 'audit_log') await audit(trx, { system: 'Bench', tenantId }, entryOf(i));
      else await trx(table).insert({ tenant_id: tenantId, actor_label: 'Bench', ...plain(i) });
    });
    ms.push(performance.now() - t0);
  }
  return ms.slice(Math.floor(count / 10)); // the first tenth warms plans and caches
}

const entryOf = (i: number) => ({
  entityType: 'customer',
  entityId: `bench-${i}`,
  action: 'customer.updated',
  before: { title: `Title ${i}`, status: 'active' },
  after: { title: `Title ${i + 1}`, status: 'active' },
});
const plain = (i: number) => {
  const e = entryOf(i);
  return {
    entity_type: e.entityType,
    entity_id: e.entityId,
    action: e.action,
    before: JSON.stringify(e.before),
    after: JSON.stringify(e.after),
  };
};

export const auditSuite: BenchSuite = {
  name: 'audit',
  async run(ctx) {
    const { db } = ctx;
    const [tenant] = await db('tenants')
      .insert({ name: `Audit bench ${Date.now()}` })
      .returning('id');
    const tenantId = (tenant as { id: string }).id;
    await db.raw(
      `insert into audit_log (tenant_id, actor_label, entity_type, entity_id, action, after)
       select ?, 'Bench', 'customer', 'c-' || n, 'customer.updated', jsonb_build_object('n', n)
         from generate_series(1, ?) n`,
      [tenantId, CHAIN],
    );
    // the same table without the chain: its indexes, foreign key and row-level security, no trigger, no hash columns
    await db.raw(`
      drop table if exists bench_audit_plain;
      create table bench_audit_plain (like audit_log including all);
      alter table bench_audit_plain drop column chain_seq, drop column prev_hash, drop column hash,
        add foreign key (tenant_id) references tenants (id);`);
    await enableTenantIsolation(db, 'bench_audit_plain');
    try {
      // in halves, taking turns, so that a change in the machine's load falls on both alike
      const chainedMs: number[] = [];
      const bareMs: number[] = [];
      for (let half = 0; half < 2; half++) {
        chainedMs.push(...(await timeChanges(db, tenantId, 'audit_log', CHANGES / 2)));
        bareMs.push(...(await timeChanges(db, tenantId, 'bench_audit_plain', CHANGES / 2)));
      }
      const [chained, bare] = [mid(chainedMs), mid(bareMs)];
      say(
        `audited change (tenant transaction + one entry), median of ${CHANGES}: ${chained.toFixed(3)} ms with the ` +
          `chain, ${bare.toFixed(3)} ms without; the chain costs ${(chained - bare).toFixed(3)} ms a change ` +
          `(chain ${CHAIN} entries long)`,
      );
      // the same inside one statement, no round trips: what the trigger adds to each row, free of client noise
      const bulk = async (table: string) => {
        const t0 = performance.now();
        await inTenant(db, tenantId, (trx) =>
          trx.raw(
            `insert into ${table} (tenant_id, actor_label, entity_type, entity_id, action, before, after)
             select ?, 'Bench', 'customer', 'b-' || n, 'customer.updated', jsonb_build_object('title', 'Old ' || n),
                    jsonb_build_object('title', 'New ' || n, 'status', 'active') from generate_series(1, 2000) n`,
            [tenantId],
          ),
        );
        return (performance.now() - t0) / 2000;
      };
      const inDb = [await bulk('audit_log'), await bulk('bench_audit_plain')];
      inDb.push(await bulk('audit_log'), await bulk('bench_audit_plain'));
      const serverSide = (Math.min(inDb[0]!, inDb[2]!) - Math.min(inDb[1]!, inDb[3]!)) * 1000;
      say(`inside PostgreSQL, 2,000 rows a statement: the chain adds ${serverSide.toFixed(1)} µs a row`);
      // the chain's own work inside PostgreSQL, without round trips: recompute the hash of every entry
      const t0 = performance.now();
      const { rows } = await db.raw<{ rows: { n: number }[] }>(
        'select count(audit_entry_hash(l))::int as n from audit_log l where tenant_id = ?',
        [tenantId],
      );
      const perEntry = ((performance.now() - t0) * 1000) / rows[0]!.n;
      say(`recomputing a hash in PostgreSQL (the trigger's and the verification's work): ${perEntry.toFixed(1)} µs`);
    } finally {
      await db.raw('drop table bench_audit_plain');
    }
  },
};
