import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import express from 'express';
import pg from 'pg';

/**
 * The yardstick of DESIGN.md section 7: a bare Express + pg + Eta page sending the statements the
 * asset list fragment sends (handed over by bench/run.ts, built by the app's own query builders)
 * in one round trip, and rendering the rows with a template of the fragment's shape. No sessions,
 * security headers, logging, compression or services: what any page on this stack costs at least.
 */
export type BareCase = {
  /** one multi-statement simple query: the tenant setup, the page (26 rows), the tab counts */
  sql: string;
};
type Setup = { url: string; poolMax: number; cases: Record<string, BareCase> };
type Row = {
  id: string;
  identifier: string;
  name: string;
  group_path: string;
  customer_id: string;
  customer_title?: string | null;
  status: string;
  plan: string;
  next_renewal_on: string | null;
  renewal_unconfirmed: boolean;
  last_located_at: Date | null;
};

// dates stay 'YYYY-MM-DD', as in the app (src/db/index.ts)
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

const eta = new Eta({
  views: path.dirname(fileURLToPath(import.meta.url)),
  cache: true,
  autoEscape: true,
  autoTrim: [false, 'nl'],
});
const days = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const times = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'Europe/London',
  timeZoneName: 'short',
});
const numbers = new Intl.NumberFormat('en-GB');
const label = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replace('_', ' ');

function shape(r: Row) {
  const renews = r.status === 'active' || (r.status === 'deactivation_pending' && r.renewal_unconfirmed);
  const day = renews && r.plan !== 'monthly' ? r.next_renewal_on : null;
  return {
    id: r.id,
    identifier: r.identifier,
    name: r.name,
    groupPath: r.group_path,
    groupKey: `${r.customer_id}/${r.group_path}`,
    customerTitle: r.customer_title ?? null,
    status: r.status,
    statusLabel: label(r.status),
    planLabel: label(r.plan),
    renewal: {
      state: day ? (r.renewal_unconfirmed ? 'unconfirmed' : 'scheduled') : 'none',
      day,
      dayLabel: day ? days.format(new Date(`${day}T00:00:00Z`)) : '',
    },
    lastFixAt: r.last_located_at?.toISOString() ?? null,
    lastFixLabel: r.last_located_at ? times.format(r.last_located_at) : '',
  };
}

process.once('message', (setup: Setup) => {
  const pool = new pg.Pool({ connectionString: setup.url, max: setup.poolMax, application_name: 'portico-bench-bare' });
  const app = express();
  app.disable('x-powered-by');
  app.get('/bare/:case', async (req, res) => {
    const c = setup.cases[req.params.case];
    if (!c) return void res.status(404).end();
    const [, page, counts] = (await pool.query(c.sql)) as unknown as pg.QueryResult[];
    const rows = page!.rows as Row[];
    res.type('html').send(
      eta.render('/bare-table', {
        rows: rows.slice(0, 25).map(shape),
        counts: Object.fromEntries((counts!.rows as { tab: string; n: number }[]).map((t) => [t.tab, t.n])),
        next:
          rows.length > 25
            ? Buffer.from(
                JSON.stringify([rows[24]!.customer_id, rows[24]!.group_path, rows[24]!.identifier, rows[24]!.id]),
              ).toString('base64url')
            : null,
        formatNumber: (n: number) => numbers.format(n),
      }),
    );
  });
  const server = app.listen(0, '127.0.0.1', () =>
    process.send?.({ ready: true, port: (server.address() as AddressInfo).port }),
  );
  const stop = () => {
    server.closeAllConnections();
    server.close(() => void pool.end().finally(() => process.exit(0)));
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
});
