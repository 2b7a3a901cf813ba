import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import { copyOut, openTenantConnection } from '../../db/tenant.js';
import { NotFoundError } from '../../errors.js';
import { ASSET_STATUS_LABELS } from './rules.js';
import { csvLine, neutralisedSql } from '../platform/csv.js';
import { english, type Translator } from '../platform/i18n.js';
import type { Actor } from '../access/index.js';
import { PLAN_LABELS, RENEWAL_STATE_TEXT, RENEWAL_WARNING_DAYS } from './subscription-rules.js';
import { assetsCsvFilename, csvDateTime, csvHeadings, NO_RENEWAL_TEXT, type AssetListFilter } from './list-rules.js';
import {
  authorizeList,
  customerQuery,
  filteredAssets,
  LIST_ORDER,
  listAssets,
  maySpanCustomers,
  sqlBuilder,
} from './list.js';
import { countsFrom, tabCountsQuery, type CountRow } from './list-counts.js';

/** The asset list as CSV: the page it shows, or the whole filtered set streamed by PostgreSQL's COPY. */

/** "Export this page": the rows listAssets shows, as CSV. */
export async function assetsPageCsv(
  db: Db,
  actor: Actor,
  filter: AssetListFilter,
  tr: Translator = english,
): Promise<{ filename: string; body: string }> {
  const list = await listAssets(db, actor, filter);
  const lines = [csvLine(csvHeadings(list.spansCustomers, actor.timeZone, tr))];
  for (const r of list.rows) {
    lines.push(
      csvLine([
        r.identifier,
        r.name,
        r.groupPath,
        ...(list.spansCustomers ? [r.customerTitle] : []),
        tr.t(r.statusLabel),
        tr.t(r.planLabel),
        r.renewal.day,
        tr.t(r.renewal.text),
        csvDateTime(r.lastFixAt ? new Date(r.lastFixAt) : null, actor.timeZone),
      ]),
    );
  }
  return { filename: assetsCsvFilename(filter), body: lines.join('') };
}

/** SQL for a label lookup: `case column when value then label ... end`, labels as bindings. */
function caseOf(column: string, labels: Record<string, string>, tr: Translator): { sql: string; bindings: string[] } {
  const entries = Object.entries(labels).map(([value, label]) => [value, tr.t(label)]);
  return {
    sql: `case ${column} ${entries.map(() => 'when ? then ?').join(' ')} else ${column} end`,
    bindings: entries.flat(),
  };
}

/** The whole filtered set with the table's columns, as CSV cells computed by PostgreSQL. */
function csvQuery(
  trx: Trx,
  actor: Actor,
  filter: AssetListFilter,
  withCustomer: boolean,
  tr: Translator,
): Knex.QueryBuilder {
  const status = caseOf('a.status', ASSET_STATUS_LABELS, tr);
  const plan = caseOf('a.plan', PLAN_LABELS, tr);
  const renews = `(a.status = 'active' or (a.status = 'deactivation_pending' and a.renewal_unconfirmed))`;
  const headings = csvHeadings(withCustomer, actor.timeZone, tr);
  const h = (i: number) => headings[i]!;
  const cols: Knex.Raw[] = [
    trx.raw(`${neutralisedSql('a.identifier')} as ??`, [h(0)]),
    trx.raw(`${neutralisedSql('a.name')} as ??`, [h(1)]),
    trx.raw(`${neutralisedSql('a.group_path')} as ??`, [h(2)]),
  ];
  if (withCustomer) {
    const title = '(select c.title from customers c where c.tenant_id = a.tenant_id and c.id = a.customer_id)';
    cols.push(trx.raw(`${neutralisedSql(title)} as ??`, [h(3)]));
  }
  const i = withCustomer ? 4 : 3;
  cols.push(
    trx.raw(`${status.sql} as ??`, [...status.bindings, h(i)]),
    trx.raw(`${plan.sql} as ??`, [...plan.bindings, h(i + 1)]),
    // mirrors listRenewal and renewalState
    trx.raw(
      `case when ${renews} and a.plan <> 'monthly' and a.next_renewal_on is not null
         then to_char(a.next_renewal_on, 'YYYY-MM-DD') end as ??`,
      [h(i + 2)],
    ),
    trx.raw(
      `case when a.status = 'deactivation_pending' and not a.renewal_unconfirmed then ? when not ${renews} then ?
        when a.plan = 'monthly' or a.next_renewal_on is null then ? when a.renewal_unconfirmed then ?
        when a.next_renewal_on between ?::date and ?::date + ? then ? else ? end as ??`,
      [
        tr.t(NO_RENEWAL_TEXT.deactivating),
        tr.t(NO_RENEWAL_TEXT.inactive),
        tr.t(RENEWAL_STATE_TEXT.none),
        tr.t(RENEWAL_STATE_TEXT.unconfirmed),
        filter.today,
        filter.today,
        RENEWAL_WARNING_DAYS,
        tr.t(RENEWAL_STATE_TEXT.due_soon),
        tr.t(RENEWAL_STATE_TEXT.scheduled),
        h(i + 3),
      ],
    ),
    trx.raw(`to_char(a.last_located_at at time zone ?, 'YYYY-MM-DD HH24:MI') as ??`, [actor.timeZone, h(i + 4)]),
  );
  return filteredAssets(trx, actor, filter)
    .select(cols)
    .orderBy(LIST_ORDER.map((c) => `a.${c}`));
}

export type AssetsCsvStream = { filename: string; stream: Readable };

/**
 * "Export all": the whole filtered set, streamed by PostgreSQL's COPY with flat memory. Resolves
 * once the first bytes are ready (so a refusal comes before any header is sent); the stream owns
 * its connection: at its end the transaction commits, and if it is destroyed first (the client went
 * away, or `signal` aborted) the query is cancelled and the connection thrown away.
 */
export async function streamAssetsCsv(
  db: Db,
  actor: Actor,
  filter: AssetListFilter,
  opts: { signal?: AbortSignal; tr?: Translator } = {},
): Promise<AssetsCsvStream> {
  authorizeList(actor, filter);
  const trx = sqlBuilder(db);
  // one export a person at a time, and never more than a third of the pool for all of them
  const conn = await openTenantConnection(db, actor.tenantId, { holder: actor.userId });
  let select: string;
  try {
    if (
      filter.customerId &&
      !(await conn.client.query(customerQuery(trx, actor, filter.customerId).toQuery())).rows.length
    )
      throw new NotFoundError();
    const { spans } = countsFrom(
      (await conn.client.query(tabCountsQuery(trx, actor, filter.customerId, filter.groupId).toQuery()))
        .rows as CountRow[],
    );
    const withCustomer = maySpanCustomers(actor, filter) && spans[filter.tab].customers > 1;
    // COPY takes no parameters, so the query goes as text: knex's toQuery() inlines every binding
    // escaped as a literal (quotes doubled, E'' when there is a backslash), never spliced raw
    select = csvQuery(trx, actor, filter, withCustomer, opts.tr ?? english).toQuery();
  } catch (err) {
    await conn.abandon();
    throw err;
  }
  const copy = await copyOut(conn, `copy (${select}) to stdout with (format csv, header)`, opts.signal);
  return { filename: assetsCsvFilename(filter), stream: copy };
}
