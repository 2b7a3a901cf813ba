import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type pg from 'pg';
import type { Db } from '../src/db/index.js';
import { hashToken } from '../src/services/platform/tokens.js';
import { record, say, type BenchSuite } from './harness.js';

/**
 * The ingestion API (POST /api/v1/locations, batches of 10,000, each its own Idempotency-Key)
 * against COPY ... FROM STDIN of the same rows into the same table, in the same run, alternating
 * which goes first, median of BENCH_RUNS. The API validates every record, resolves identifiers,
 * keeps the track and moves each asset's last location; COPY only appends rows, so it is the
 * ceiling. BENCH_INGEST_BATCHES batches a run (default 5), over BENCH_INGEST_ASSETS assets (1,000).
 */

const whole = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a whole number`);
  return v;
};
const BATCH = 10_000;
const batches = whole('BENCH_INGEST_BATCHES', 5);
const assetCount = whole('BENCH_INGEST_ASSETS', 1000);
const runs = whole('BENCH_RUNS', 3);

type Fixture = { tenantId: string; key: string; assets: { id: string; identifier: string }[] };

async function fixture(db: Db): Promise<Fixture> {
  const tenantId = (
    await db('tenants')
      .insert({ name: `Ingestion bench ${randomBytes(3).toString('hex')}` })
      .returning('id')
  )[0].id as string;
  const customerId = (
    await db('customers')
      .insert({ tenant_id: tenantId, title: 'Ingestion bench customer', account_id: 'IB-1' })
      .returning('id')
  )[0].id as string;
  await db.raw(
    `insert into assets (tenant_id, customer_id, identifier, name, status)
     select ?, ?, '3590' || lpad(i::text, 11, '0'), 'Bench unit ' || i, 'active' from generate_series(1, ?) as i`,
    [tenantId, customerId, assetCount],
  );
  const assets: { id: string; identifier: string }[] = await db('assets')
    .where({ tenant_id: tenantId })
    .orderBy('identifier')
    .select('id', 'identifier');
  const key = `pk_${randomBytes(32).toString('base64url')}`;
  await db('api_keys').insert({
    tenant_id: tenantId,
    name: 'bench',
    key_hash: hashToken(key),
    key_prefix: key.slice(0, 10),
    created_by_label: 'bench',
  });
  return { tenantId, key, assets };
}

/** Batch `n` of a run: 10,000 positions spread over the assets, at times no other batch uses. */
function batchRecords(f: Fixture, stamp: number) {
  return Array.from({ length: BATCH }, (_, i) => {
    const a = f.assets[i % f.assets.length]!;
    return {
      identifier: a.identifier,
      assetId: a.id,
      latitude: 50 + (i % 997) / 1000,
      longitude: -1 + (i % 991) / 1000,
      recorded_at: new Date(stamp + i * 1000).toISOString(),
    };
  });
}

async function viaApi(base: string, f: Fixture, stamps: number[]): Promise<number> {
  const bodies = stamps.map((s) => JSON.stringify({ records: batchRecords(f, s).map(({ assetId: _, ...r }) => r) }));
  const started = performance.now();
  for (const [i, body] of bodies.entries()) {
    const res = await fetch(`${base}/api/v1/locations`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${f.key}`,
        'content-type': 'application/json',
        'idempotency-key': `bench-${stamps[i]}`,
      },
      body,
      signal: AbortSignal.timeout(120_000),
    });
    if (res.status !== 200) throw new Error(`the API answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  }
  return (bodies.length * BATCH) / ((performance.now() - started) / 1000);
}

async function viaCopy(db: Db, f: Fixture, stamps: number[]): Promise<number> {
  const texts = stamps.map((s) =>
    batchRecords(f, s)
      .map((r) => `${f.tenantId}\t${r.assetId}\t${r.recorded_at}\t${r.latitude}\t${r.longitude}\n`)
      .join(''),
  );
  const client = (await db.client.acquireConnection()) as pg.Client;
  try {
    const started = performance.now();
    for (const text of texts) {
      await client.query('begin');
      await pipeline(
        Readable.from([text]),
        client.query(
          copyFrom('copy asset_locations (tenant_id, asset_id, recorded_at, latitude, longitude) from stdin'),
        ),
      );
      await client.query('commit');
    }
    return (texts.length * BATCH) / ((performance.now() - started) / 1000);
  } finally {
    await db.client.releaseConnection(client);
  }
}

/** Updates of asset rows so far, and how many were HOT (statistics, which lag a moment behind). */
async function assetUpdates(db: Db): Promise<{ all: number; hot: number }> {
  await db.raw('select pg_stat_force_next_flush()');
  const { rows } = await db.raw<{ rows: { all: string; hot: string }[] }>(
    "select n_tup_upd as all, n_tup_hot_upd as hot from pg_stat_user_tables where relname = 'assets'",
  );
  return { all: Number(rows[0]!.all), hot: Number(rows[0]!.hot) };
}

const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export const ingestionSuite: BenchSuite = {
  name: 'ingestion',
  async run(ctx) {
    const f = await fixture(ctx.db);
    const app = await ctx.app();
    say(
      `ingestion: ${batches} batch${batches === 1 ? '' : 'es'} of ${BATCH.toLocaleString('en-GB')} locations a run` +
        ` over ${assetCount.toLocaleString('en-GB')} assets, median of ${runs} runs, alternating order`,
    );
    let stamp = Date.UTC(2026, 0, 1);
    const nextStamps = () => Array.from({ length: batches }, () => (stamp += BATCH * 1000 + 1000));
    // one batch each way first, so neither side pays for a cold cache or JIT in the figures
    await viaApi(app.base, f, nextStamps().slice(0, 1));
    await viaCopy(ctx.db, f, nextStamps().slice(0, 1));
    const api: number[] = [];
    const copy: number[] = [];
    const updatesBefore = await assetUpdates(ctx.db);
    for (let r = 0; r < runs; r++) {
      if (r % 2 === 0) {
        api.push(await viaApi(app.base, f, nextStamps()));
        copy.push(await viaCopy(ctx.db, f, nextStamps()));
      } else {
        copy.push(await viaCopy(ctx.db, f, nextStamps()));
        api.push(await viaApi(app.base, f, nextStamps()));
      }
    }
    const a = mid(api);
    const c = mid(copy);
    const runList = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');
    say(
      `  POST /api/v1/locations, batches of 10,000: ${Math.round(a).toLocaleString('en-GB')} records/s` +
        ` (runs: ${runList(api)})`,
    );
    say(
      `  COPY asset_locations FROM STDIN, same rows: ${Math.round(c).toLocaleString('en-GB')} rows/s` +
        ` (runs: ${runList(copy)})`,
    );
    say(`  API / COPY: ${Math.round((a / c) * 100)} % (target ≥ 50 %)`);
    record({
      case: 'POST /api/v1/locations, batches of 10,000',
      app: `${Math.round(a)} records/s`,
      bare: `COPY ${Math.round(c)} rows/s`,
      ratio: `${Math.round((a / c) * 100)} %`,
      target: '≥ 50 % of COPY',
      met: (a / c) * 100 >= 50,
    });
    const updates = await assetUpdates(ctx.db);
    const n = updates.all - updatesBefore.all;
    const hot = updates.hot - updatesBefore.hot;
    say(
      `  last locations: ${n.toLocaleString('en-GB')} asset rows updated, ` +
        `${n ? Math.round((hot / n) * 100) : 0} % of them HOT (no index touched)`,
    );
  },
};
