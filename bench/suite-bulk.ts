import { randomUUID } from 'node:crypto';
import type { Actor } from '../src/services/access/index.js';
import { previewBulkAction, runBulkAction } from '../src/services/assets/bulk.js';
import { say, type BenchSuite } from './harness.js';

/**
 * Issue 22: a bulk move of 10,000 assets (one customer's group, selected by the list's filter) to
 * another group: the preview (read and judge every asset, record the preview) and the confirmation
 * (lock, judge again, move, requests and audit entries, set-wise), each timed on its own. Each run
 * makes a tenant and customer of its own and leaves them in the bench database, moved.
 */
const COUNT = 10_000;

export const bulkSuite: BenchSuite = {
  name: 'bulk',
  async run({ db }) {
    const [tenant] = await db('tenants')
      .insert({ name: `Bulk bench ${randomUUID().slice(0, 8)}` })
      .returning('id');
    const tenantId = (tenant as { id: string }).id;
    const [customer] = await db('customers')
      .insert({ tenant_id: tenantId, title: 'Bulk Bench Ltd', account_id: 'BB-1' })
      .returning('id');
    const customerId = (customer as { id: string }).id;
    const [from, to] = (await db('groups')
      .insert([
        { tenant_id: tenantId, customer_id: customerId, name: 'Yard', path: 'Yard' },
        { tenant_id: tenantId, customer_id: customerId, name: 'Depot', path: 'Depot' },
      ])
      .returning(['id', 'path'])) as { id: string; path: string }[];
    await db.raw(
      `insert into assets (tenant_id, customer_id, group_id, group_path, identifier, name, status, plan,
         term_start, term_end, next_renewal_on)
       select ?, ?, ?, ?, 'BB' || lpad(i::text, 12, '0'), 'Bulk asset ' || i, 'active', 'yearly',
              current_date - 100, current_date + 264, current_date + 265
         from generate_series(1, ?) as i`,
      [tenantId, customerId, from!.id, from!.path, COUNT],
    );
    const [user] = await db('users')
      .insert({ email: `bulk-${randomUUID()}@bench.test`, name: 'Bulk Bench', status: 'active' })
      .returning(['id', 'email']);
    const u = user as { id: string; email: string };
    const [membership] = await db('memberships')
      .insert({ tenant_id: tenantId, user_id: u.id, role: 'company_admin', customer_id: customerId })
      .returning('id');
    const actor: Actor = {
      userId: u.id,
      email: u.email,
      name: 'Bulk Bench',
      timeZone: 'UTC',
      membershipId: (membership as { id: string }).id,
      tenantId,
      tenantName: 'Bulk bench',
      role: 'company_admin',
      customerId,
      partnerId: null,
      placeName: 'Bulk Bench Ltd',
    };
    const filter = { tab: 'active' as const, q: 'yard', after: null, before: null, size: 25, today: '2026-01-01' };
    const now = new Date();
    const t0 = performance.now();
    const { id } = await previewBulkAction(db, actor, { action: 'move', groupId: to!.id, selection: { filter } }, now);
    const t1 = performance.now();
    await runBulkAction(db, actor, id, now);
    const t2 = performance.now();
    const moved = await db('assets')
      .where({ tenant_id: tenantId, group_id: to!.id })
      .count<{ n: string }[]>({ n: '*' });
    say(
      `bulk move of ${COUNT.toLocaleString('en-US')} assets (moved ${Number(moved[0]!.n).toLocaleString('en-US')}): ` +
        `preview ${((t1 - t0) / 1000).toFixed(2)} s, confirm ${((t2 - t1) / 1000).toFixed(2)} s`,
    );
  },
};
