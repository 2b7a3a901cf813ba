import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BULK_FREIGHT, seedBulkAssets } from '../../src/demo/bulk.js';
import { demoId } from '../../src/demo/data.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

const { db, url } = await testDatabase();
const tenantId = demoId('tenant:demo');

// the real command, as a person runs it: `npm run seed -- --assets 5000` on an empty database
const { stdout } = await promisify(execFile)(
  process.execPath,
  ['--import', 'tsx', 'src/demo/seed.ts', '--assets', '5000'],
  {
    // only what the command needs: vitest's own variables (BASE_URL=/ among them) are not settings of ours
    env: { PATH: process.env.PATH, DATABASE_URL: url, SESSION_SECRET: 'test-secret-that-is-long-enough-for-the-check' },
    cwd: path.resolve(import.meta.dirname, '../..'),
    timeout: 60_000,
  },
);

async function countsByStatus() {
  const counted = await db('assets')
    .where({ tenant_id: tenantId })
    .groupBy('status')
    .select<{ status: string; n: number }[]>('status', db.raw('count(*)::int as n'));
  const kept = await db('asset_counts')
    .where({ tenant_id: tenantId })
    .groupBy('status')
    .select<{ status: string; n: number }[]>('status', db.raw('sum(n)::int as n'));
  const byStatus = (rows: { status: string; n: number }[]) =>
    Object.fromEntries(rows.filter((r) => r.n > 0).map((r) => [r.status, r.n]));
  return { counted: byStatus(counted), kept: byStatus(kept) };
}

describe('the bulk demo generator', () => {
  it('seeds the demo, then adds the assets asked for, telling its progress and the time taken', async () => {
    expect(stdout).toContain('assets: 5,000 / 5,000');
    expect(stdout).toMatch(/Added 5,000 assets \(5,000 of them to Bulk Freight\) in [\d.]+ s/);
    expect(await db('tenants').where({ id: tenantId }).first('name')).toEqual({ name: 'Demo Telematics' });
  });

  it('keeps the tab badge counters equal to the assets, status by status', async () => {
    const { counted, kept } = await countsByStatus();
    expect(Object.keys(counted).sort()).toEqual([
      'activation_pending',
      'active',
      'deactivated',
      'deactivation_pending',
      'inactive',
    ]);
    expect(kept).toEqual(counted);
  });

  it(
    'puts a run of up to 100,000 assets in Bulk Freight, in its groups, ' + 'with every plan and renewal state',
    async () => {
      const bf = await db('customers')
        .where({ tenant_id: tenantId, account_id: BULK_FREIGHT.account })
        .first<{ id: string; title: string }>('id', 'title');
      expect(bf.title).toBe('Bulk Freight');
      const assets = db('assets').where({ tenant_id: tenantId, customer_id: bf.id });
      expect(Number((await assets.clone().count({ n: '*' }))[0]!.n)).toBe(5000);
      expect((await assets.clone().distinct('plan')).map((r) => r.plan).sort()).toEqual([
        'monthly',
        'quarterly',
        'yearly',
      ]);
      expect(
        Number((await assets.clone().where({ renewal_unconfirmed: true }).count({ n: '*' }))[0]!.n),
      ).toBeGreaterThan(0);
      // the other two states of a running yearly or quarterly term: renewing within 28 days, and later
      const running = () =>
        assets
          .clone()
          .where({ status: 'active', renewal_unconfirmed: false })
          .whereIn('plan', ['yearly', 'quarterly'])
          .count({ n: '*' });
      const today = "(now() at time zone 'UTC')::date";
      const dueSoon = await running().whereRaw(`next_renewal_on between ${today} and ${today} + 28`);
      const later = await running().whereRaw(`next_renewal_on > ${today} + 28`);
      expect(Number(dueSoon[0]!.n)).toBeGreaterThan(0);
      expect(Number(later[0]!.n)).toBeGreaterThan(0);
      const groups = await db('groups').where({ tenant_id: tenantId, customer_id: bf.id }).select('path', 'parent_id');
      expect(groups.length).toBeGreaterThanOrEqual(24);
      expect(groups.filter((g) => g.parent_id).length).toBeGreaterThan(0);
      // each pending asset has its open request
      const pending = await assets
        .clone()
        .whereIn('status', ['activation_pending', 'deactivation_pending'])
        .count({ n: '*' });
      const requests = await db('asset_requests')
        .where({ tenant_id: tenantId, customer_id: bf.id, state: 'pending' })
        .count({ n: '*' });
      expect(Number(requests[0]!.n)).toBe(Number(pending[0]!.n));
    },
  );

  it("lets Bulk Freight's company admin sign in with the demo password", async () => {
    const { app } = testApp({ db });
    const { landing } = await signedInAgent(app, BULK_FREIGHT.adminEmail);
    expect(landing).toBe('/');
  });

  it('adds more assets with new identifiers when run again, and the counters follow later changes', async () => {
    const result = await seedBulkAssets(db, { assets: 300 });
    expect(result).toMatchObject({ assets: 300, bulkFreight: 300 });
    const { counted, kept } = await countsByStatus();
    expect(kept).toEqual(counted);
    // the counting trigger is back on after the run
    const asset = await db('assets').where({ tenant_id: tenantId, status: 'inactive' }).first<{ id: string }>('id');
    await db('assets').where({ tenant_id: tenantId, id: asset.id }).update({ status: 'active' });
    const after = await countsByStatus();
    expect(after.kept).toEqual(after.counted);
    expect(after.kept.active).toBe(counted.active! + 1);
  });
});
