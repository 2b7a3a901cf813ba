import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { inTenant } from '../../src/db/tenant.js';
import { loadActor } from '../../src/services/people/sign-in.js';
import { customerSummary, ownSummary } from '../../src/services/billing/summaries.js';
import { createApiKey } from '../../src/services/integration/api-keys.js';
import { generateInvoice } from '../../src/services/billing/invoice-generation.js';
import { listOwnInvoices, setInvoiceStatus } from '../../src/services/billing/invoices.js';
import type { Actor } from '../../src/services/access/index.js';
import { insertUsageRecords, repriceUsageRecords } from '../../src/services/billing/usage-records.js';
import { english } from '../../src/services/platform/i18n.js';
import { csrfFrom, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUsageRecords, makeUser, TEST_PASSWORD } from '../support/factories.js';
import supertest from 'supertest';

/** an error's message as an English reader reads it (a catalog message with its values filled in) */
const saysIt = (re: RegExp) => (err: { message: string; values?: Record<string, string> }) =>
  re.test(english.t(err.message, err.values));
const { db } = await testDatabase();
const NOW = new Date('2026-11-24T09:30:00Z');
const clock = fixedClock(NOW);
const { app } = testApp({ db, clock });

const tenant = await makeTenant(db, { name: 'Callwave' });
const actorOf = async (u: { id: string; membershipId: string }): Promise<Actor> =>
  (await loadActor(db, u.id, u.membershipId))!;
const adminUser = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const admin = await actorOf(adminUser);

/** The figures a summary shows, computed straight from the records: the yardstick for the rollups. */
async function directDaily(customerId: string, from: string, to: string) {
  const { rows } = await db.raw<{
    rows: {
      day: Date | string;
      attempts: string;
      connected: string;
      in_progress: string;
      billed_seconds: string;
      billed_minutes: string;
      charge: string;
    }[];
  }>(
    `select (occurred_at at time zone 'UTC')::date as day,
       count(*) filter (where status <> 'in_progress') as attempts,
       count(*) filter (where status in ('answered', 'delivered')) as connected,
       count(*) filter (where status = 'in_progress') as in_progress,
       coalesce(sum(duration_seconds) filter (where status <> 'in_progress'), 0) as billed_seconds,
       coalesce(sum(ceil(duration_seconds / 60.0)) filter (where status <> 'in_progress'), 0) as billed_minutes,
       coalesce(sum(price_minor) filter (where status <> 'in_progress'), 0) as charge
     from usage_records
     where tenant_id = ? and customer_id = ? and (occurred_at at time zone 'UTC')::date between ? and ?
     group by 1 order by 1 desc`,
    [tenant.id, customerId, from, to],
  );
  return rows.map((r) => ({
    start: r.day instanceof Date ? r.day.toISOString().slice(0, 10) : String(r.day),
    attempts: Number(r.attempts),
    connected: Number(r.connected),
    inProgress: Number(r.in_progress),
    billedSeconds: Number(r.billed_seconds),
    billedMinutes: Number(r.billed_minutes),
    chargeMinor: Number(r.charge),
  }));
}

/**
 * Rollup rows (hourly or daily) that differ from the same figures aggregated straight from the records:
 * none, when they agree.
 */
async function rollupMismatches(customerId: string, table: 'usage_hourly' | 'usage_daily') {
  const bucket =
    table === 'usage_hourly'
      ? "date_bin('1 hour', occurred_at, timestamptz '2000-01-01 00:00:00+00')"
      : "(occurred_at at time zone 'UTC')::date";
  const key = table === 'usage_hourly' ? 'hour' : 'day';
  const { rows } = await db.raw(
    `with direct as (
       select product, ${bucket} as bucket, count(*) filter (where status <> 'in_progress') as attempts,
         count(*) filter (where status in ('answered', 'delivered')) as connected,
         count(*) filter (where status = 'in_progress') as in_progress,
         coalesce(sum(duration_seconds) filter (where status <> 'in_progress'), 0) as billed_seconds,
         coalesce(sum(price_minor) filter (where status <> 'in_progress'), 0) as charge_minor
       from usage_records where customer_id = ? group by 1, 2
     ), kept as (
       select product, ${key} as bucket, attempts, connected, in_progress, billed_seconds, charge_minor from ${table}
       where customer_id = ? and (attempts, connected, in_progress, billed_seconds, charge_minor) <> (0, 0, 0, 0, 0)
     )
     (select 'missing' as what, * from direct except select 'missing', * from kept)
     union all (select 'extra', * from kept except select 'extra', * from direct)`,
    [customerId, customerId],
  );
  return rows as unknown[];
}

const shown = (
  rows: {
    start: string;
    attempts: number;
    connected: number;
    inProgress: number;
    billedSeconds: number;
    billedMinutes: number;
    chargeMinor: number;
  }[],
) =>
  rows
    .filter((r) => r.attempts || r.inProgress)
    .map(({ start, attempts, connected, inProgress, billedSeconds, billedMinutes, chargeMinor }) => ({
      start,
      attempts,
      connected,
      inProgress,
      billedSeconds,
      billedMinutes,
      chargeMinor,
    }));

/** A mix of products and outcomes over the days before NOW, some calls still going on. */
async function mixedUsage(customer: { id: string; tenant_id: string }) {
  const statuses = ['answered', 'no_answer', 'busy', 'answered', 'failed', 'in_progress'] as const;
  const records = Array.from({ length: 600 }, (_, i) => ({
    customerId: customer.id,
    product: (['voice', 'voice', 'sms', 'video'] as const)[i % 4]!,
    occurredAt: new Date(NOW.getTime() - i * 37 * 60_000),
    direction: 'outbound' as const,
    status: i % 4 === 2 ? ('delivered' as const) : statuses[i % 6]!,
    fromNumber: '+441000',
    toNumber: '+442000',
    durationSeconds: i % 4 === 2 ? 0 : (i * 13) % 400,
    priceMinor: (i * 7) % 50,
  }));
  await inTenant(db, customer.tenant_id, (trx) => insertUsageRecords(trx, customer.tenant_id, records));
}

describe('call summaries', () => {
  it(
    'equal a direct aggregate over the records, also after late records, re-pricing, ' + 'call ends and deletions',
    async () => {
      const customer = await makeCustomer(db, tenant.id);
      await mixedUsage(customer);
      const query = { view: 'daily', from: '2026-11-01', to: '2026-11-24' };
      const compare = async () => {
        const summary = await customerSummary(db, admin, customer.id, query, NOW);
        expect(shown(summary.rows)).toEqual(await directDaily(customer.id, '2026-11-01', '2026-11-24'));
        expect(await rollupMismatches(customer.id, 'usage_hourly')).toEqual([]);
        expect(await rollupMismatches(customer.id, 'usage_daily')).toEqual([]);
      };
      await compare();

      // records arriving today for a day two weeks ago land in that day
      await makeUsageRecords(db, customer, 25, {
        from: new Date('2026-11-10T15:00:00Z'),
        priceMinor: 11,
        durationSeconds: 61,
      });
      // re-pricing (as the pricing step does), calls in progress ending, a time corrected, records removed
      await inTenant(db, tenant.id, async (trx) => {
        await trx('usage_records')
          .where({ customer_id: customer.id, product: 'voice' })
          .whereRaw('id % 3 = 0')
          .update({ price_minor: trx.raw('price_minor * 2 + 1') });
        await trx('usage_records')
          .where({ customer_id: customer.id, status: 'in_progress' })
          .whereRaw('id % 2 = 0')
          .update({ status: 'answered', duration_seconds: 125 });
        await trx('usage_records')
          .where({ customer_id: customer.id })
          .whereRaw('id % 17 = 0')
          .update({ occurred_at: trx.raw("occurred_at - interval '3 days'") });
        await trx('usage_records').where({ customer_id: customer.id }).whereRaw('id % 23 = 0').delete();
        // an update that touches no counted column changes nothing
        await trx('usage_records').where({ customer_id: customer.id }).update({ content: null });
      });
      await compare();
      // re-pricing after a price list correction, as staff run it
      await db('price_lists').insert({
        tenant_id: tenant.id,
        customer_id: customer.id,
        product: 'voice',
        unit_price_minor: 9,
        valid_from: '2026-11-01T00:00:00Z',
      });
      const repriced = await inTenant(db, tenant.id, (trx) =>
        repriceUsageRecords(trx, tenant.id, customer.id, 'voice', new Date('2026-11-01T00:00:00Z'), NOW),
      );
      expect(repriced).toBeGreaterThan(0);
      // late records priced on arrival from that list
      await inTenant(db, tenant.id, (trx) =>
        insertUsageRecords(trx, tenant.id, [
          {
            customerId: customer.id,
            product: 'voice',
            occurredAt: '2026-11-03T08:15:00Z',
            direction: 'inbound',
            status: 'answered',
            fromNumber: '1',
            toNumber: '2',
            durationSeconds: 125,
          },
        ]),
      );
      await compare();
      expect((await directDaily(customer.id, '2026-11-10', '2026-11-10'))[0]!.chargeMinor).toBeGreaterThanOrEqual(
        25 * 11,
      );
    },
  );

  it('shows today by hour with the calls in progress, and months summed from the hours', async () => {
    const customer = await makeCustomer(db, tenant.id);
    await mixedUsage(customer);
    const live = await customerSummary(db, admin, customer.id, { view: 'live' }, NOW);
    expect(live.rows.map((r) => r.start)).toEqual(Array.from({ length: 10 }, (_, i) => String(9 - i)));
    const direct = await db('usage_records')
      .where({ customer_id: customer.id, status: 'in_progress' })
      .count({ n: '*' })
      .first();
    expect(live.channelsInUse).toBe(Number(direct!.n));
    const monthly = await customerSummary(
      db,
      admin,
      customer.id,
      { view: 'monthly', from: '2026-11', to: '2026-11' },
      NOW,
    );
    const daily = await customerSummary(
      db,
      admin,
      customer.id,
      { view: 'daily', from: '2026-11-01', to: '2026-11-30' },
      NOW,
    );
    expect(monthly.rows[0]!.chargeMinor).toBe(daily.totals.chargeMinor);
    expect(monthly.rows[0]!.attempts).toBe(daily.totals.attempts);
  });

  it('shows a company admin their own account only', async () => {
    const customer = await makeCustomer(db, tenant.id);
    await mixedUsage(customer);
    const owner = await actorOf(
      await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id }),
    );
    const mine = await ownSummary(db, owner, { view: 'monthly' }, NOW);
    expect(mine.customer.id).toBe(customer.id);
    await expect(customerSummary(db, owner, customer.id, {}, NOW)).rejects.toThrow(/role/);
  });
});

describe('invoices', () => {
  it('numbers invoices without gaps when staff generate them at the same time, refused ones included', async () => {
    const t = await makeTenant(db);
    const staff = await actorOf(await makeUser(db, { tenantId: t.id, role: 'tenant_admin' }));
    const customers = await Promise.all(Array.from({ length: 4 }, () => makeCustomer(db, t.id)));
    for (const c of customers) await makeUsageRecords(db, c, 50, { from: new Date('2026-11-20T12:00:00Z') });
    // 4 customers × 3 attempts at the same days: one wins per customer, the others are refused
    const attempts = customers.flatMap((c) =>
      [0, 1, 2].map(() =>
        generateInvoice(db, staff, c.id, { granularity: 'daily', periods: ['2026-11-19', '2026-11-20'] }, NOW),
      ),
    );
    const results = await Promise.allSettled(attempts);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    for (const r of results.filter((x) => x.status === 'rejected'))
      expect(String((r as PromiseRejectedResult).reason.message)).toMatch(/already invoiced/);
    // and more at once for other days
    await Promise.all(
      customers.map((c) => generateInvoice(db, staff, c.id, { granularity: 'daily', periods: ['2026-11-18'] }, NOW)),
    );
    const numbers = (await db('invoices').where({ tenant_id: t.id }).orderBy('number').pluck('number')).map(Number);
    expect(numbers).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('never invoices a usage period twice, until its invoice is voided', async () => {
    const customer = await makeCustomer(db, tenant.id);
    await makeUsageRecords(db, customer, 40, { from: new Date('2026-10-15T12:00:00Z'), priceMinor: 5 });
    const first = await generateInvoice(db, admin, customer.id, { granularity: 'monthly', periods: ['2026-10'] }, NOW);
    expect(first.total_minor).toBe(200);
    // a day inside the invoiced month, the month again, and every product when the first was all of them
    await expect(
      generateInvoice(db, admin, customer.id, { granularity: 'daily', periods: ['2026-10-15'] }, NOW),
    ).rejects.toSatisfy(saysIt(new RegExp(`already invoiced \\(${first.numberLabel}\\)`)));
    await expect(
      generateInvoice(db, admin, customer.id, { granularity: 'monthly', product: 'voice', periods: ['2026-10'] }, NOW),
    ).rejects.toThrow(/already invoiced/);
    // the constraint itself, not only the check: a second claim of the same day is refused by PostgreSQL
    await expect(
      db('invoiced_usage_days').insert({
        tenant_id: tenant.id,
        customer_id: customer.id,
        product: 'voice',
        day: '2026-10-15',
        invoice_id: first.id,
      }),
    ).rejects.toThrow(/invoiced_usage_days_pkey/);
    // an open period is refused too
    await expect(
      generateInvoice(db, admin, customer.id, { granularity: 'monthly', periods: ['2026-11'] }, NOW),
    ).rejects.toMatchObject({ fields: { periods: { id: expect.stringMatching(/not over yet/) } } });

    await setInvoiceStatus(db, admin, customer.id, first.id, 'void', NOW, { confirmed: true });
    const again = await generateInvoice(db, admin, customer.id, { granularity: 'daily', periods: ['2026-10-15'] }, NOW);
    expect(again.total_minor).toBe(200);
  });

  it('shows the customer an invoice once it is issued, not while it is a draft', async () => {
    const customer = await makeCustomer(db, tenant.id);
    await makeUsageRecords(db, customer, 10, { from: new Date('2026-11-02T12:00:00Z'), priceMinor: 3 });
    const owner = await actorOf(
      await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id }),
    );
    const invoice = await generateInvoice(
      db,
      admin,
      customer.id,
      { granularity: 'daily', periods: ['2026-11-02'] },
      NOW,
    );
    expect((await listOwnInvoices(db, owner)).invoices).toEqual([]);
    await setInvoiceStatus(db, admin, customer.id, invoice.id, 'issued', NOW);
    expect((await listOwnInvoices(db, owner)).invoices.map((i) => i.numberLabel)).toEqual([invoice.numberLabel]);
    await expect(setInvoiceStatus(db, admin, customer.id, invoice.id, 'draft', NOW)).rejects.toSatisfy(
      saysIt(/cannot become draft/),
    );
  });
});

describe('billing pages', () => {
  const signIn = async (email: string) => {
    const agent = supertest.agent(app);
    const page = await agent.get('/login');
    const res = await agent
      .post('/login')
      .type('form')
      .send({ email, password: TEST_PASSWORD, _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(303);
    return agent;
  };

  it('renders the summaries page, its fragment and its CSV, and generates an invoice from ticked rows', async () => {
    const customer = await makeCustomer(db, tenant.id);
    await db('customers').where({ id: customer.id }).update({ currency: 'GBP' });
    await makeUsageRecords(db, customer, 30, { from: new Date('2026-11-05T12:00:00Z'), priceMinor: 12 });
    const agent = await signIn(adminUser.email);
    const base = `/admin/customers/${customer.id}/billing/summaries`;
    const page = await agent.get(`${base}?from=2026-11-01&to=2026-11-24`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('All times are UTC');
    expect(page.text).toContain('£3.60');
    const fragment = await agent.get(`${base}?from=2026-11-01&to=2026-11-24`).set('HX-Request', 'true');
    expect(fragment.text.trimStart()).toMatch(/^<div id="summary-table"/);
    const csv = await agent.get(`${base}.csv?from=2026-11-05&to=2026-11-05`);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text.split('\n')[1]).toBe('2026-11-05,30,30,100,60,30,3.6');

    const csrf = csrfFrom(page.text);
    const none = await agent
      .post(`/admin/customers/${customer.id}/billing/invoices`)
      .type('form')
      .send({ _csrf: csrf, granularity: 'daily' });
    expect(none.status).toBe(422);
    expect(none.text).toContain('Tick at least one row');
    const made = await agent
      .post(`/admin/customers/${customer.id}/billing/invoices`)
      .type('form')
      .send({ _csrf: csrf, granularity: 'daily', periods: ['2026-11-05', '2026-11-04'] });
    expect(made.status).toBe(303);
    const shownInvoice = await agent.get(made.headers.location!);
    expect(shownInvoice.text).toMatch(/Invoice INV-\d{6}/);
    expect(shownInvoice.text).toContain('£3.60');
    const twice = await agent
      .post(`/admin/customers/${customer.id}/billing/invoices`)
      .type('form')
      .send({ _csrf: csrf, granularity: 'daily', periods: '2026-11-05' });
    expect(twice.status).toBe(409);
    expect(twice.text).toContain('already invoiced');
    // the row now says which invoice covers it, and offers no checkbox
    const after = await agent.get(`${base}?from=2026-11-05&to=2026-11-05`);
    expect(after.text).not.toContain('aria-label="Invoice 2026-11-05"');
    expect(after.text).toMatch(/Invoiced INV-\d{6}/);

    // issued, the customer downloads it as CSV; a draft stays hidden from them (404)
    const invoiceUrl = made.headers.location!;
    const invoiceId = invoiceUrl.split('/').pop()!;
    const owner = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
    const customerAgent = await signIn(owner.email);
    expect((await customerAgent.get(`/billing/invoices/${invoiceId}`)).status).toBe(404);
    const issue = await agent.post(`${invoiceUrl}/status`).type('form').send({ _csrf: csrf, status: 'issued' });
    expect(issue.status).toBe(303);
    const refusedVoid = await agent.post(`${invoiceUrl}/status`).type('form').send({ _csrf: csrf, status: 'void' });
    expect(refusedVoid.status).toBe(422);
    const download = await customerAgent.get(`/billing/invoices/${invoiceId}.csv`);
    expect(download.headers['content-disposition']).toMatch(/attachment; filename="INV-\d{6}\.csv"/);
    expect(download.text).toMatch(
      new RegExp(
        String.raw`^Invoice,Customer,Account ID,Status,Period start,Period end,Currency,Total\n` +
          String.raw`INV-\d{6},.*,Issued,2026-11-04,2026-11-05,GBP,3.6\n`,
      ),
    );
  });
});

describe('/api/v1/invoices', () => {
  it(
    'lets a billing system read invoices with their lines, by status and time of change, ' + 'a keyset page at a time',
    async () => {
      const t = await makeTenant(db);
      const staff = await actorOf(await makeUser(db, { tenantId: t.id, role: 'tenant_admin' }));
      const customer = await makeCustomer(db, t.id);
      await makeUsageRecords(db, customer, 100, { from: new Date('2026-11-10T12:00:00Z'), priceMinor: 7 });
      const made = [];
      for (const day of ['2026-11-06', '2026-11-07', '2026-11-08', '2026-11-09', '2026-11-10']) {
        // each generated the day after its usage day
        made.push(
          await generateInvoice(
            db,
            staff,
            customer.id,
            { granularity: 'daily', periods: [day] },
            new Date(Date.parse(`${day}T00:01:00Z`) + 86_400_000),
          ),
        );
      }
      const { secret } = await createApiKey(db, staff, { name: 'Billing', scopes: ['invoices:read'] }, NOW);
      const get = (q: string) => supertest(app).get(`/api/v1/invoices${q}`).set('Authorization', `Bearer ${secret}`);

      const first = await get('?limit=2');
      expect(first.status).toBe(200);
      expect(first.body.invoices.map((i: { number: number }) => i.number)).toEqual([1, 2]);
      const all = [...first.body.invoices];
      let next = first.body.next_after as string | null;
      while (next) {
        const page = await get(`?limit=2&after=${encodeURIComponent(next)}`);
        all.push(...page.body.invoices);
        next = page.body.next_after;
      }
      expect(all.map((i) => i.number)).toEqual([1, 2, 3, 4, 5]);
      expect(all[4]).toMatchObject({
        number_label: 'INV-000005',
        status: 'draft',
        currency: 'EUR',
        customer: { id: customer.id },
        period_start: '2026-11-10',
        // the day's 100 records at 7 cents
        total_minor: 700,
        lines: [{ position: 1, amount_minor: 700 }],
      });

      // issuing one moves it to the end, and a filter by status finds it
      await setInvoiceStatus(db, staff, customer.id, made[1]!.id, 'issued', new Date('2026-11-24T10:00:00Z'));
      const issued = await get('?status=issued');
      expect(issued.body.invoices.map((i: { number: number }) => i.number)).toEqual([2]);
      const since = await get(`?updated_since=${encodeURIComponent('2026-11-24T00:00:00Z')}`);
      expect(since.body.invoices.map((i: { number: number; status: string }) => `${i.number} ${i.status}`)).toEqual([
        '2 issued',
      ]);

      // another tenant's key sees none of them; bad parameters are 400 with a reason
      const otherAdmin = await actorOf(
        await makeUser(db, { tenantId: (await makeTenant(db)).id, role: 'tenant_admin' }),
      );
      const other = await createApiKey(db, otherAdmin, { name: 'Other', scopes: ['invoices:read'] }, NOW);
      expect(
        (await supertest(app).get('/api/v1/invoices').set('Authorization', `Bearer ${other.secret}`)).body.invoices,
      ).toEqual([]);
      expect((await get('?status=sent')).status).toBe(400);
      expect((await get('?limit=500')).body.error).toMatch(/limit/);
      expect((await get('?after=nonsense')).status).toBe(400);
      expect((await supertest(app).get('/api/v1/invoices')).status).toBe(401);
    },
  );
});
