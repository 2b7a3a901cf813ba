import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import express from 'express';
import pg from 'pg';
import { formatMoney } from '../src/services/billing/money.js';
import { maskNumber } from '../src/services/partners/number-masking.js';

/**
 * The partner usage log's yardstick: a bare Express + pg + Eta page sending the statements the
 * app's log fragment sends (tenant setup, the partner's customer, the page of 26 records, built by
 * the app's own query builders and handed over by bench/suite-partner.ts) in one round trip, and
 * rendering 25 masked rows with a template of the fragment's shape. No sessions, headers or logging.
 */
export type BareUsageCase = { sql: string };
type Setup = { url: string; poolMax: number; cases: Record<string, BareUsageCase> };
type Row = {
  id: number;
  at: string;
  occurred_at: Date;
  direction: string;
  status: string;
  from_number: string;
  to_number: string;
  units: number;
  price_minor: number;
  currency: string;
};

pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
const eta = new Eta({
  views: path.dirname(fileURLToPath(import.meta.url)),
  cache: true,
  autoEscape: true,
  autoTrim: [false, 'nl'],
});
const times = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZone: 'Europe/London',
  timeZoneName: 'short',
});
const label = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replace('_', ' ');

process.once('message', (setup: Setup) => {
  const pool = new pg.Pool({ connectionString: setup.url, max: setup.poolMax, application_name: 'portico-bench-bare' });
  const app = express();
  app.disable('x-powered-by');
  app.get('/bare/:case', async (req, res) => {
    const c = setup.cases[req.params.case];
    if (!c) return void res.status(404).end();
    const [, customer, page] = (await pool.query(c.sql)) as unknown as pg.QueryResult[];
    if (!customer!.rows.length) return void res.status(404).end();
    const rows = page!.rows as Row[];
    const shown = rows.slice(0, 25);
    const last = shown[shown.length - 1];
    res.type('html').send(
      eta.render('/bare-usage', {
        rows: shown.map((r) => ({
          id: String(r.id),
          occurredAt: r.at,
          timeLabel: times.format(r.occurred_at),
          directionLabel: label(r.direction),
          status: r.status,
          statusLabel: label(r.status),
          from: maskNumber(r.from_number),
          to: maskNumber(r.to_number),
          quantityLabel: `${r.units} part${r.units === 1 ? '' : 's'}`,
          priceLabel: formatMoney(r.price_minor, r.currency),
        })),
        next: rows.length > 25 && last ? Buffer.from(`${last.at}|${last.id}`).toString('base64url') : null,
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
