import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { sendScheduledReports } from '../../src/services/reports/index.js';
import { noticeOverLimit } from '../../src/services/billing/index.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser } from '../support/factories.js';

/**
 * Languages in the billing area: a German reader (users.locale = 'de') sees /billing, call summaries,
 * invoices, /usage, tickets, sites and the partner's usage view in German, downloads German CSV headers
 * and gets German ticket and report mails; an English reader still sees English.
 */

const NOW = '2026-11-24T09:00:00Z';
const { db } = await testDatabase();
await seedDemo(db, { now: new Date(NOW) });
const { app } = testApp({ db, clock: fixedClock(NOW) });
const tenantId = demoId('tenant:demo');
const northwind = demoId('customer:northwind');
const PERIOD = 'from=2026-11-01&to=2026-11-24';

const german = (email: string) => db('users').where({ email }).update({ locale: 'de' });
await german('owner@northwind.test');
await german('partner@bluewave.test');
await german('sites@northwind.test');

/** the visible text of a page, without tags, for asserting what a reader sees */
const textOf = (html: string) => html.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ');

describe('a German company admin', () => {
  it('sees the billing account and the latest invoices in German', async () => {
    const { agent } = await signedInAgent(app, 'owner@northwind.test');
    const page = await agent.get('/billing');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<html lang="de">');
    const text = textOf(page.text);
    for (const de of ['Abrechnung', 'Ihr Konto', 'Saldo', 'Kreditlimit', 'Neueste Rechnungen', 'Postpaid: Berechnung'])
      expect(text).toContain(de);
    expect(text).toMatch(/\d laufende Gespräche/);
    for (const en of ['Debit limit', 'Latest invoices', 'Notes from your provider', 'calls in progress now'])
      expect(text).not.toContain(en);
    // money in German conventions
    expect(text).toMatch(/-?\d+,\d\d\s£/);
  });

  it('sees the call summaries, their CSV and an invoice in German', async () => {
    const { agent } = await signedInAgent(app, 'owner@northwind.test');
    const summaries = await agent.get('/billing/summaries');
    expect(summaries.status).toBe(200);
    const text = textOf(summaries.text);
    for (const de of [
      'Verbindungsübersicht',
      'Versuche',
      'Abgerechnete Minuten',
      'Mit Überschriften kopieren',
      'Summe',
    ])
      expect(text).toContain(de);
    expect(summaries.text).toContain('data-cell-label="Versuche"');
    // the cell selection script's texts, rendered into the page for it in German
    const texts = JSON.parse(/data-cell-texts="([^"]*)"/.exec(summaries.text)![1]!.replaceAll('&quot;', '"')) as {
      copiedHeaders: { other: string };
      none: string;
    };
    expect(texts.copiedHeaders.other).toBe('1.000.003 Werte mit Überschriften kopiert.');
    expect(texts.none).toBe('Keine Zellen ausgewählt.');
    for (const en of ['Call summaries', 'Billed minutes', 'Copy with headers']) expect(text).not.toContain(en);
    const csv = await agent.get('/billing/summaries.csv');
    expect(csv.text.split('\n')[0]).toBe(
      'Zeitraum (UTC),Versuche,Verbunden,ASR (%),ACD (s),Abgerechnete Minuten,Entgelt (GBP)',
    );

    const invoice = await db('invoices')
      .where({ tenant_id: tenantId, customer_id: northwind })
      .whereNot('status', 'draft')
      .first('id');
    const list = await agent.get('/billing/invoices');
    expect(textOf(list.text)).toContain('Rechnungen');
    const page = await agent.get(`/billing/invoices/${invoice.id}`);
    expect(page.status).toBe(200);
    const shown = textOf(page.text);
    for (const de of ['Rechnung INV-', 'Zeitraum (UTC)', 'Beschreibung', 'Betrag', 'CSV herunterladen'])
      expect(shown).toContain(de);
    expect(shown).not.toContain('Download CSV');
    const file = await agent.get(`/billing/invoices/${invoice.id}.csv`);
    expect(file.text.split('\n')[0]).toBe('Rechnung,Kunde,Konto-ID,Status,Periodenbeginn,Periodenende,Währung,Summe');
  });

  it('sees their own usage and its CSV header in German', async () => {
    const { agent } = await signedInAgent(app, 'owner@northwind.test');
    const page = await agent.get(`/usage?product=voice&${PERIOD}`);
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    for (const de of [
      'Nutzung',
      'Richtung',
      'Alle Richtungen',
      'Zeilen pro Seite',
      'Zahlen nach Tag',
      'CSV exportieren',
    ])
      expect(text).toContain(de);
    for (const en of ['All directions', 'Rows per page', 'Figures by day']) expect(text).not.toContain(en);
    const csv = await agent.get(`/usage.csv?product=voice&${PERIOD}`);
    expect(csv.status).toBe(200);
    expect(csv.text.split('\n')[0]).toMatch(
      /^Zeit \([^)]+\),Richtung,Status,Von,An,Dauer \(s\),Einheiten,Preis \(GBP\)$/,
    );
  });

  it('sees the tickets, a ticket and its thread in German', async () => {
    const { agent, csrf } = await signedInAgent(app, 'owner@northwind.test');
    const list = await agent.get('/tickets');
    expect(list.status).toBe(200);
    const text = textOf(list.text);
    for (const de of ['Tickets und Anfragen', 'Ticket eröffnen', 'Letzte Änderung', 'Betreff'])
      expect(text).toContain(de);
    expect(text).not.toContain('Last update');
    const form = await agent.get('/tickets/new');
    expect(textOf(form.text)).toContain('Worum geht es?');
    expect(form.text).toContain('Technisches Problem');
    const opened = await agent
      .post('/tickets')
      .type('form')
      .send({ _csrf: csrf, asset_id: '', subject: 'Rechnungsfrage', category: 'billing', message: 'Bitte prüfen.' });
    expect(opened.status).toBe(303);
    const page = await agent.get(opened.headers.location!);
    const shown = textOf(page.text);
    for (const de of ['Offen', 'Kategorie', 'Verlauf', 'Kommentar hinzufügen', 'Das Konto'])
      expect(shown).toContain(de);
    expect(shown).toMatch(/Ticket #\d+ ist eröffnet/);
    expect(shown).not.toContain('Conversation');
  });

  it('sees the site map and a site in German', async () => {
    const { agent } = await signedInAgent(app, 'sites@northwind.test');
    const page = await agent.get('/sites');
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    for (const de of [
      'Ihre Standorte',
      'In diesem Zeitraum bedient',
      'Die Karte braucht JavaScript',
      'Zuletzt erledigt',
    ])
      expect(text).toContain(de);
    expect(page.text).toContain('aria-label="Legende"');
    expect(text).not.toContain('Your sites');
    const site = /href="(\/sites\/[0-9a-f-]{36})\?/.exec(page.text)![1]!;
    const one = await agent.get(site);
    expect(one.status).toBe(200);
    expect(textOf(one.text)).toContain('Ihre Standorte');
    expect(one.text).toContain('aria-label="Geofence von');
  });
});

describe('a German partner viewer', () => {
  it("sees a customer's masked usage, its chart and its CSV header in German", async () => {
    const { agent } = await signedInAgent(app, 'partner@bluewave.test');
    const list = await agent.get('/partner/customers');
    expect(list.status).toBe(200);
    expect(textOf(list.text)).toContain('Kunden verwalten');
    const customer = /href="\/partner\/customers\/([0-9a-f-]{36})"/.exec(list.text)![1]!;
    const overview = await agent.get(`/partner/customers/${customer}`);
    expect(textOf(overview.text)).toContain('Verbleibendes Guthaben');
    const page = await agent.get(`/partner/customers/${customer}/usage/sms?${PERIOD}`);
    expect(page.status).toBe(200);
    const text = textOf(page.text);
    for (const de of ['Tägliches Volumen und Kosten', 'Datensätze', 'Richtung', 'Zugestellt', 'Teile'])
      expect(text).toContain(de);
    expect(page.text).toContain('aria-label="Nutzungsprotokoll filtern"');
    // the log's times in German
    expect(text).toMatch(/\d+\. Nov\. 2026, \d\d:\d\d:\d\d/);
    expect(page.text).toMatch(/data-announce="[\d.]+ Datens(atz|ätze) vom/);
    for (const en of ['Daily volume and spend', 'Rows per page']) expect(text).not.toContain(en);
    const csv = await agent.get(`/partner/customers/${customer}/usage/sms.csv?${PERIOD}`);
    expect(csv.status).toBe(200);
    expect(csv.text.split('\n')[0]).toMatch(
      /^Zeit \([^)]+\),Richtung,Status,Von,An,Dauer \(s\),Einheiten,Preis \([A-Z]{3}\)$/,
    );
  });
});

describe('mail in the recipient’s language', () => {
  it('mails a staff reply in German to a German opener, and in English to an English follower', async () => {
    const owner = await signedInAgent(app, 'owner@northwind.test');
    const opened = await owner.agent
      .post('/tickets')
      .type('form')
      .send({ _csrf: owner.csrf, asset_id: '', subject: 'Mail auf Deutsch', category: 'other', message: 'Hallo.' });
    const id = String(opened.headers.location).split('/').pop()!;
    const fleet = await signedInAgent(app, 'fleet@northwind.test');
    // the group admin may not reach an account ticket: only the opener is mailed then
    await fleet.agent.post(`/tickets/${id}/following`).type('form').send({ _csrf: fleet.csrf });
    const before = await db('outbox').where({ tenant_id: tenantId, kind: 'ticket_update' }).max({ id: 'id' }).first();
    const staff = await signedInAgent(app, 'support@demo.test');
    const res = await staff.agent
      .post(`/admin/tickets/${id}/comments`)
      .type('form')
      .send({ _csrf: staff.csrf, body: 'Wir prüfen das.', status: 'waiting_on_customer' });
    expect(res.status).toBe(303);
    const mails = await db('outbox')
      .where({ tenant_id: tenantId, kind: 'ticket_update' })
      .where('id', '>', before?.id ?? 0)
      .select('recipient', 'subject', 'body_text');
    const toOwner = mails.find((m) => m.recipient === 'owner@northwind.test')!;
    expect(toOwner.subject).toMatch(/^\[Ticket #\d+\] Neue Antwort, jetzt Wartet auf Kunden: Mail auf Deutsch$/);
    expect(toOwner.body_text).toContain('Guten Tag ');
    expect(toOwner.body_text).toContain('> Wir prüfen das.');
    expect(toOwner.body_text).toContain('Ticket ansehen und antworten:');
    expect(toOwner.body_text).not.toContain('See the ticket');
    for (const m of mails.filter((x) => x.recipient !== 'owner@northwind.test'))
      expect(m.subject).toContain('New reply, now Waiting on customer');
  });

  it('writes the weekly digest in German for a German recipient', async () => {
    const tenant = await makeTenant(db, { name: 'Sprach Telematik' });
    const customer = await makeCustomer(db, tenant.id, { title: 'Sprach Fracht', account_id: 'SF-1' });
    const de = await makeUser(
      db,
      { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
      { email: 'de@sprache.test', name: 'Greta Deutsch' },
    );
    await makeUser(
      db,
      { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
      { email: 'en@sprache.test', name: 'Ellen English' },
    );
    await db('users').where({ id: de.id }).update({ locale: 'de' });
    await sendScheduledReports(db, {
      now: new Date(NOW),
      links: { baseUrl: 'https://portal.test', secret: 's'.repeat(32) },
    });
    const mailOf = (to: string, kind: string) =>
      db('outbox').where({ tenant_id: tenant.id, recipient: to, kind }).first('subject', 'body_text');
    const digest = await mailOf('de@sprache.test', 'weekly_digest');
    expect(digest.subject).toMatch(/^Wöchentliche Flottenübersicht für die Woche vom \d+\. \S+ 2026$/);
    expect(digest.body_text).toContain('Guten Tag Greta Deutsch,');
    expect(digest.body_text).toContain('- Kein Gerät verlängert sich in den nächsten 4 Wochen.');
    expect(digest.body_text).toContain('- Keine Anfrage ist ausstehend.');
    expect(digest.body_text).not.toContain('Your fleet');
    const statement = await mailOf('de@sprache.test', 'monthly_statement');
    expect(statement.subject).toMatch(/^Monatsauszug für \S+ 2026: SF-1$/);
    expect(statement.body_text).toContain('Saldo heute:');
    const english = await mailOf('en@sprache.test', 'weekly_digest');
    expect(english.subject).toMatch(/^Weekly fleet digest for the week of \d+ \S+ 2026$/);
    expect(english.body_text).toContain('Hello Ellen English,');
  });
});

describe('the over-limit mail', () => {
  it('is written in each billing contact’s language, money in its conventions', async () => {
    const tenant = await makeTenant(db);
    const customer = await makeCustomer(db, tenant.id, { title: 'Limit Fracht', account_id: 'LF-1' });
    const de = await makeUser(
      db,
      { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
      { email: 'de@limit.test', name: 'Greta Limit' },
    );
    await makeUser(
      db,
      { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
      { email: 'en@limit.test', name: 'Ellen Limit' },
    );
    await db('users').where({ id: de.id }).update({ locale: 'de' });
    await db('customers')
      .where({ tenant_id: tenant.id, id: customer.id })
      .update({ balance_minor: -150_000, debit_limit_minor: 100_000 });
    expect(await noticeOverLimit(db, tenant.id, [customer.id])).toBe(1);
    const mails = await db('outbox')
      .where({ tenant_id: tenant.id, kind: 'over_limit' })
      .select('recipient', 'subject', 'body_text');
    const german = mails.find((m) => m.recipient === 'de@limit.test')!;
    expect(german.subject).toBe('Limit Fracht (LF-1) hat das Kreditlimit überschritten');
    expect(german.body_text).toContain('Guten Tag Greta Limit,');
    expect(german.body_text).toMatch(
      /Kreditlimit von 1\.000,00\s\S+ ausgeschöpft: Der Saldo beträgt -1\.500,00\s\S+\./,
    );
    const english = mails.find((m) => m.recipient === 'en@limit.test')!;
    expect(english.subject).toBe('Limit Fracht (LF-1) is over its debit limit');
    expect(english.body_text).toContain('Hello Ellen Limit,');
  });
});

describe('an English reader', () => {
  it('still sees billing, usage, the usage CSV and tickets in English', async () => {
    await db('users').where({ email: 'owner@northwind.test' }).update({ locale: 'en' });
    try {
      const { agent } = await signedInAgent(app, 'owner@northwind.test');
      const billing = textOf((await agent.get('/billing')).text);
      expect(billing).toContain('Your account');
      expect(billing).toContain('Debit limit');
      expect(billing).not.toContain('Kreditlimit');
      const usage = textOf((await agent.get(`/usage?product=sms&${PERIOD}`)).text);
      expect(usage).toContain('All directions');
      expect(usage).not.toContain('Richtung');
      const csv = await agent.get(`/usage.csv?product=sms&${PERIOD}`);
      expect(csv.text.split('\n')[0]).toMatch(
        /^Time \([^)]+\),Direction,Status,From,To,Duration \(s\),Units,Price \(GBP\)$/,
      );
      const tickets = textOf((await agent.get('/tickets')).text);
      expect(tickets).toContain('Tickets and requests');
      expect(tickets).not.toContain('Tickets und Anfragen');
    } finally {
      await db('users').where({ email: 'owner@northwind.test' }).update({ locale: 'de' });
    }
  });

  it('gets German pages from a German browser when no language is chosen', async () => {
    await db('users').where({ email: 'owner@northwind.test' }).update({ locale: null });
    try {
      const { agent } = await signedInAgent(app, 'owner@northwind.test');
      const page = await agent.get('/billing').set('Accept-Language', 'de-DE');
      expect(textOf(page.text)).toContain('Ihr Konto');
      const en = await agent.get('/billing').set('Accept-Language', 'en-GB');
      expect(textOf(en.text)).toContain('Your account');
    } finally {
      await db('users').where({ email: 'owner@northwind.test' }).update({ locale: 'de' });
    }
  });
});
