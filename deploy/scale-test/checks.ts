import { createDb, type Db } from '../../src/db/index.js';
import { addDays, addMonths, termFor, todayIn } from '../../src/services/assets/subscription-rules.js';
import { makeApiKey, makeAsset, makeCustomer, makeGroup, makeUser } from '../../tests/support/factories.js';
import type { SmtpCatcher } from '../../tests/support/smtp.js';
import type { PgServer } from '../../tests/support/streaming-replica.js';

/** The scale test's own data, and what it reads back afterwards: writes, reminders, renewals, the replica. */

/** the API client's positions lie south of this, where the demo has none */
export const SCALE_LATITUDE = -89;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export type Fixtures = Awaited<ReturnType<typeof addFixtures>>;

/**
 * What the run needs beyond the demo: an API key, the assets people open, and a customer whose
 * subscriptions are due for the jobs: 20 renewing in 10 days (one reminder to each of its two
 * recipients) and 10 whose yearly term ended yesterday (renewed once).
 */
export async function addFixtures(db: Db) {
  const run = Date.now().toString(36);
  const tenant = (await db('tenants').where({ name: 'Demo Telematics' }).first('id')) as { id: string };
  const northwind = (await db('customers')
    .where({ tenant_id: tenant.id, title: 'Northwind Logistics' })
    .first('id')) as {
    id: string;
  };
  const northwindAssets: { id: string; identifier: string }[] = await db('assets')
    .where({ customer_id: northwind.id })
    .orderBy('identifier')
    .select('id', 'identifier');
  const truckAssets: { id: string }[] = await db('assets')
    .where({ customer_id: northwind.id })
    .where((q) => q.where('group_path', 'Trucks').orWhere('group_path', 'like', 'Trucks / %'))
    .select('id');
  const apiKey = await makeApiKey(db, tenant.id, { name: 'Scale test' });

  const customer = await makeCustomer(db, tenant.id, { title: 'Scale Freight' });
  const group = await makeGroup(db, customer, { name: 'Long haul' });
  const admin = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
  const member = await makeUser(db, { tenantId: tenant.id, role: 'group_admin', customerId: customer.id });
  await db('membership_groups').insert({
    tenant_id: tenant.id,
    membership_id: member.membershipId,
    group_id: group.id,
  });
  const today = todayIn('UTC', new Date());
  const renewal = addDays(today, 10);
  const term = termFor('yearly', addDays(renewal, -365));
  const due: string[] = [];
  for (let i = 1; i <= 20; i++) {
    const a = await makeAsset(
      db,
      { group },
      {
        identifier: `SCALE-DUE-${String(i).padStart(3, '0')}`,
        plan: 'yearly',
        term_start: term.termStart,
        term_end: addDays(renewal, -1),
        next_renewal_on: renewal,
      },
    );
    due.push(a.id);
  }
  const lapsed: string[] = [];
  const yesterday = addDays(today, -1);
  const ended = termFor('yearly', addMonths(yesterday, -12)); // its next renewal was yesterday
  for (let i = 1; i <= 10; i++) {
    const a = await makeAsset(
      db,
      { group },
      {
        identifier: `SCALE-LAPSED-${String(i).padStart(3, '0')}`,
        plan: 'yearly',
        term_start: ended.termStart,
        term_end: ended.termEnd,
        next_renewal_on: ended.nextRenewalOn,
      },
    );
    lapsed.push(a.id);
  }
  return {
    run,
    tenantId: tenant.id,
    northwindId: northwind.id,
    northwindAssets,
    truckAssets,
    apiKey,
    recipients: [admin.email, member.email],
    due,
    lapsed,
    lapsedRenewsOn: termFor('yearly', yesterday).nextRenewalOn,
    // positions are an hour old, one second apart per batch, so no two batches share a time; they are told
    // from the demo's own positions by their latitude (SCALE_LATITUDE and south)
    locationsFrom: Math.floor((Date.now() - 3600_000) / 1000) * 1000,
  };
}

export type LagSample = { at: number; seconds: number | null };

/** The replica's replay lag as the primary sees it (pg_stat_replication), twice a second; null while it is away. */
export function replicaLagSampler(primary: PgServer) {
  const samples: LagSample[] = [];
  const db = createDb(primary.url('portico'), { poolMax: 1 });
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const rows = await db
        .raw<{ rows: { lag: number | null }[] }>(
          `select extract(epoch from coalesce(replay_lag, '0'))::float8 as lag
             from pg_stat_replication where application_name = 'replica'`,
        )
        .then((r) => r.rows)
        .catch(() => null);
      if (rows) samples.push({ at, seconds: rows[0]?.lag ?? null });
      await sleep(500);
    }
    await db.destroy();
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

export async function replicaTransactions(standby: PgServer): Promise<number> {
  const db = createDb(standby.url('portico'), { poolMax: 1 });
  try {
    const { rows } = await db.raw<{ rows: { n: number }[] }>(
      "select xact_commit + xact_rollback as n from pg_stat_database where datname = 'portico'",
    );
    return rows[0]?.n ?? 0;
  } finally {
    await db.destroy();
  }
}

/** a write the portal acknowledged: what it was, when the answer came (epoch ms) and which instance gave it */
export type Ack = { what: string; at: number; by: string };
export type Acked = { tickets: Ack[]; comments: Ack[]; batches: (Ack & { second: number; n: number })[] };

export async function findWrites(db: Db, fixtures: Fixtures, acked: Acked) {
  const tickets = new Set<string>(await db('tickets').where('subject', 'like', 'scale-test ticket %').pluck('subject'));
  const comments = new Set<string>(
    await db('ticket_entries').where('body', 'like', `scale-test comment % ${fixtures.run}`).pluck('body'),
  );
  const { rows } = await db.raw<{ rows: { second: string; n: number }[] }>(
    `select (extract(epoch from date_trunc('second', recorded_at)) * 1000)::bigint::text as second, count(*)::int as n
       from asset_locations where tenant_id = ? and recorded_at >= ? and latitude <= ? group by 1`,
    [fixtures.tenantId, new Date(fixtures.locationsFrom), SCALE_LATITUDE],
  );
  const batches = new Map(rows.map((r) => [Number(r.second), r.n]));
  const lostBatches = acked.batches.filter((b) => batches.get(b.second) !== b.n);
  return {
    tickets: { acked: acked.tickets.length, lost: acked.tickets.filter((t) => !tickets.has(t.what)) },
    comments: {
      acked: acked.comments.length,
      found: comments.size,
      lost: acked.comments.filter((c) => !comments.has(c.what)),
    },
    batches: {
      acked: acked.batches.length,
      found: batches.size,
      records: acked.batches.reduce((n, b) => n + b.n, 0),
      lost: lostBatches.map((b) => ({
        ...b,
        what: `${b.what}: ${batches.get(b.second) ?? 0} of ${b.n} records found`,
      })),
    },
  };
}

/** Reminder mails at the SMTP catcher, by recipient and asset; renewals of the lapsed terms, by asset. */
export async function checkReminders(db: Db, smtp: SmtpCatcher, fixtures: Fixtures, since: Date) {
  const mails = smtp.messages.filter((m) => m.subject?.startsWith('Renewal reminder'));
  const mentions = new Map<string, number>(); // "recipient asset" → times
  for (const m of mails) {
    const to = (m.to as { text: string } | undefined)?.text ?? '';
    for (const [, id] of (m.text ?? '').matchAll(/\/assets\/([0-9a-f-]{36})\b/g))
      mentions.set(`${to} ${id}`, (mentions.get(`${to} ${id}`) ?? 0) + 1);
  }
  const perSubscription = fixtures.due.flatMap((id) =>
    fixtures.recipients.map((to) => mentions.get(`${to} ${id}`) ?? 0),
  );
  const recorded = await db('renewal_reminders_sent').where('sent_at', '>=', since).countDistinct({ n: 'user_id' });
  const renewed = await db('assets').whereIn('id', fixtures.lapsed).select('next_renewal_on', 'renewal_unconfirmed');
  const audits = await db('audit_log')
    .where({ action: 'asset.renewed_automatically' })
    .whereIn('entity_id', fixtures.lapsed)
    .count({ n: '*' });
  return {
    mails: mails.length,
    people: Number(recorded[0]!.n),
    perSubscription, // the fixture's 20 subscriptions × 2 recipients: each must be 1
    twiceAnywhere: [...mentions.values()].filter((n) => n > 1).length,
    renewedOnce: renewed.filter((r) => r.next_renewal_on === fixtures.lapsedRenewsOn && r.renewal_unconfirmed).length,
    renewalAudits: Number(audits[0]!.n),
    lapsed: fixtures.lapsed.length,
  };
}
