import type { Readable } from 'node:stream';
import type { Db, Trx } from '../src/db/index.js';
import { inTenant } from '../src/db/tenant.js';
import { assetListQuery, tabCounts } from '../src/services/assets/list.js';
import { tabCountsQuery } from '../src/services/assets/list-counts.js';
import { encodeAssetCursor, type AssetListFilter, type AssetTab } from '../src/services/assets/list-rules.js';
import { streamAssetsCsv } from '../src/services/assets/list-csv.js';
import { loadActor } from '../src/services/people/sign-in.js';
import { scopeAssets, type Actor } from '../src/services/access/index.js';
import { todayIn } from '../src/services/assets/subscription-rules.js';
import type { BareCase } from './bare-server.js';

export type ListCase = { key: string; title: string; appPath: string; bare: BareCase };

const DEPTH = 500_000;

/**
 * The asset list requests the bench drives: each with the URL the app answers and, for the bare
 * page, the very statements the app sends for it in its one round trip (tenant setup, page, tab
 * counts), taken from the list service's own query builders.
 */
export async function listCases(
  db: Db,
  email: string,
): Promise<{ list: ListCase[]; csv: { path: string; copy: () => Promise<Readable> } }> {
  const actor = await actorFor(db, email);
  const today = todayIn(actor.timeZone, new Date());
  const filter = (tab: AssetTab, over: Partial<AssetListFilter> = {}): AssetListFilter => ({
    tab,
    q: '',
    after: null,
    before: null,
    size: 25,
    today,
    ...over,
  });
  const sql = (f: AssetListFilter): BareCase => {
    const builder = db as unknown as Trx; // knex only builds the text here
    return {
      sql: [
        tenantSetup(actor.tenantId),
        assetListQuery(builder, actor, f).toQuery(),
        tabCountsQuery(builder, actor).toQuery(),
      ].join(';\n'),
    };
  };
  const counts = await tabCounts(db, actor);

  // the row `position` places into the tab, by one OFFSET query (fine once, never in the app)
  const deep = async (tab: AssetTab) => {
    const position = Math.min(DEPTH, Math.floor(counts[tab] * 0.9));
    const row = await inTenant(db, actor.tenantId, (trx) => {
      const q = scopeAssets(trx, actor, 'a');
      if (tab !== 'all') q.where('a.tab', tab);
      return q
        .orderBy(['a.customer_id', 'a.group_path', 'a.identifier', 'a.id'])
        .offset(position - 1)
        .first<{ customer_id: string; group_path: string; identifier: string; id: string }>(
          'a.customer_id',
          'a.group_path',
          'a.identifier',
          'a.id',
        );
    });
    const after = { customerId: row.customer_id, groupPath: row.group_path, identifier: row.identifier, id: row.id };
    return { position, after, param: encodeURIComponent(encodeAssetCursor(after)) };
  };
  const all = await deep('all');
  const active = await deep('active');
  // the last 7 digits of one identifier, as a person would type them (a run of zeros would match nearly everything)
  const probeAt = (offset: number, filtered = true) =>
    inTenant(db, actor.tenantId, (trx) =>
      scopeAssets(trx, actor, 'a')
        .whereRaw(filtered ? "right(a.identifier, 7) not like '%00%'" : 'true')
        .orderBy(['a.customer_id', 'a.group_path', 'a.identifier', 'a.id'])
        .offset(offset)
        .first<{ identifier: string } | undefined>('a.identifier'),
    );
  // a third of the way in; a small bench (BENCH_ASSETS under 100,000) may have no such rows at all
  const probe = (await probeAt(Math.floor(all.position / 3))) ?? (await probeAt(Math.floor(all.position / 3), false))!;
  const term = probe.identifier.slice(-7);
  const n = (x: number) => x.toLocaleString('en-GB');
  return {
    list: [
      { key: 'page1', title: 'asset list page 1', appPath: '/assets?tab=all', bare: sql(filter('all')) },
      {
        key: 'deep',
        title: `asset list deep page (${n(all.position)} rows in)`,
        appPath: `/assets?tab=all&after=${all.param}`,
        bare: sql(filter('all', { after: all.after })),
      },
      {
        key: 'search',
        title: `asset search "${term}"`,
        appPath: `/assets?tab=all&q=${term}`,
        bare: sql(filter('all', { q: term })),
      },
      {
        key: 'active-deep',
        title: `Active tab deep page (${n(active.position)} rows in)`,
        appPath: `/assets?tab=active&after=${active.param}`,
        bare: sql(filter('active', { after: active.after })),
      },
    ],
    // the app's own COPY of the same select, run here: no HTTP, no Express, no app event loop
    csv: { path: '/assets.csv?tab=all', copy: async () => (await streamAssetsCsv(db, actor, filter('all'))).stream },
  };
}

/** What queryInTenant (src/db/tenant.ts) sends first: the tenant goes in as a literal, so only a uuid. */
function tenantSetup(tenantId: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tenantId))
    throw new Error('tenant id is not a uuid');
  return `select set_config('portico.tenant_id', '${tenantId}', true), set_config('role', 'portico_app', true)`;
}

async function actorFor(db: Db, email: string): Promise<Actor> {
  const m = await db('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .whereRaw('lower(u.email) = lower(?)', [email])
    .first<{ user_id: string; id: string } | undefined>('m.user_id', 'm.id');
  const actor = m && (await loadActor(db, m.user_id, m.id));
  if (!actor) throw new Error(`no user ${email}`);
  return actor;
}
