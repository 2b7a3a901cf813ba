import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { sendRenewalReminders } from '../../src/services/assets/index.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

/**
 * The assets and groups area in German: a person who chose German (users.locale) reads the asset list
 * (the whole page and the htmx fragment), an asset's page, a group's page, the CSV export and the renewal
 * reminder mail in German; a person who chose nothing reads them in English, as before.
 */

const { db } = await testDatabase();
const clock = fixedClock('2026-11-24T10:00:00Z');
await seedDemo(db, { now: clock.now() });
const { app } = testApp({ db, clock });
const tenantId = demoId('tenant:demo');
const links = { baseUrl: 'https://portal.example.test', secret: 'test-secret-that-is-long-enough-for-the-check' };

await db('users').where({ email: 'owner@northwind.test' }).update({ locale: 'de' });
const german = await signedInAgent(app, 'owner@northwind.test');
const english = await signedInAgent(app, 'fleet@northwind.test');

const trucks = demoId('group:trucks');
const anAsset = (await db('assets')
  .where({ tenant_id: tenantId, group_id: trucks, status: 'active' })
  .orderBy('identifier')
  .first('id', 'identifier'))!;

describe('the asset list in German', () => {
  it('shows the tabs, the table headings and the filters in German', async () => {
    const page = await german.agent.get('/assets');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<html lang="de">');
    for (const text of [
      '<h1>Geräte</h1>',
      '>Alle <span class="count">',
      '>Aktiv <span class="count">',
      '>Aktivierung ausstehend <span class="count">',
      '>Deaktivierung ausstehend <span class="count">',
      '>Inaktiv <span class="count">',
      '<th scope="col">Kennung</th>',
      '<th scope="col">Gruppe</th>',
      '<th scope="col">Tarif</th>',
      '<th scope="col">Verlängerung</th>',
      '<th scope="col">Zeit der letzten Position</th>',
      'Nach Kennung, Name oder Gruppe suchen',
      'Verlängerung innerhalb von 4 Wochen fällig',
      'Zeilen pro Seite',
      'Alle exportieren (CSV)',
      'Mehrere Geräte bearbeiten',
      'Aktivierung beantragen',
    ])
      expect(page.text).toContain(text);
    expect(page.text).toMatch(/<caption>\d+ von [\d.]+ Geräten<\/caption>/);
    // the bulk selection script's texts come with the form, in German
    expect(page.text).toContain('data-text-none="Keine Geräte ausgewählt."');
    expect(page.text).toContain('data-text-many="{n} Geräte auf dieser Seite ausgewählt."');
    for (const text of ['<th scope="col">Identifier</th>', 'Rows per page', 'Search by identifier', 'Showing '])
      expect(page.text).not.toContain(text);
  });

  it('answers htmx with the German fragment, with plurals the German way', async () => {
    const fragment = await german.agent.get('/assets?due=28d').set('HX-Request', 'true');
    expect(fragment.status).toBe(200);
    expect(fragment.text).toMatch(/^<div id="asset-list">/);
    expect(fragment.text).not.toContain('<html');
    expect(fragment.text).toContain('<th scope="col">Kennung</th>');
    expect(fragment.text).toContain('Verlängerung innerhalb von 4 Wochen fällig: alle Verlängerungen zeigen');
    expect(fragment.text).toMatch(/<caption>\d+ Geräte?, Verlängerung innerhalb von 4 Wochen fällig<\/caption>/);
    expect(fragment.text).toContain('Verlängert sich innerhalb von 4 Wochen');
    expect(fragment.text).not.toContain('Due for renewal within 4 weeks');
    expect(fragment.text).not.toContain('Renews within 4 weeks');
  });

  it('exports CSV with German headings and labels', async () => {
    for (const url of ['/assets.csv', '/assets.csv?scope=page', `/groups/${trucks}.csv`]) {
      const csv = await german.agent.get(url);
      expect(csv.status).toBe(200);
      const [header] = csv.text.split(/\r?\n/);
      expect(header).toMatch(/^Kennung,Name,Gruppe,(Kunde,)?Status,Tarif,Verlängerungsdatum,Verlängerung,/);
      expect(header).toContain('Zeit der letzten Position (Europe/London)');
      expect(csv.text).toMatch(/,(Aktiv|Inaktiv|Deaktiviert),(Monatlich|Vierteljährlich|Jährlich),/);
    }
  });
});

describe('an asset and a group in German', () => {
  it("shows an asset's page in German, its dates the German way", async () => {
    const page = await german.agent.get(`/assets/${anAsset.id}`);
    expect(page.status).toBe(200);
    for (const text of [
      '>Geräte</a>',
      '<dt>Kennung</dt>',
      '<dt>Aktuelle Laufzeit</dt>',
      '<dt>Nächste Verlängerung</dt>',
    ])
      expect(page.text).toContain(text);
    expect(page.text).toContain('<h2 id="history-heading">Verlauf</h2>');
    expect(page.text).toContain('Deaktivierung beantragen');
    // a day in German: "24. November 2026"
    expect(page.text).toMatch(
      /\d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember) \d{4}/,
    );
    for (const text of ['<dt>Identifier</dt>', 'Current term', 'Next renewal', 'Request deactivation'])
      expect(page.text).not.toContain(text);
  });

  it("shows a group's page in German, with its asset list", async () => {
    const page = await german.agent.get(`/groups/${trucks}`);
    expect(page.status).toBe(200);
    for (const text of [
      '<dt>Kunde</dt>',
      '<dt>Aktive Geräte</dt>',
      '<dt>Verlängerung fällig</dt>',
      'innerhalb von 4 Wochen',
      '<h2 id="group-users-heading">Benutzer</h2>',
      '<th scope="col">Kennung</th>',
      'Untergruppen',
    ])
      expect(page.text).toContain(text);
    for (const text of ['<dt>Customer</dt>', 'Active assets', 'within 4 weeks']) expect(page.text).not.toContain(text);

    const groups = await german.agent.get('/groups');
    expect(groups.status).toBe(200);
    expect(groups.text).toContain('<h1>Gruppen</h1>');
    expect(groups.text).toContain('<th scope="col" class="num">Aktive Geräte</th>');
    expect(groups.text).not.toContain('Active assets');
  });
});

describe('the renewal reminder in the recipient language', () => {
  it('writes to a German reader in German and to the others in English', async () => {
    const counts = await sendRenewalReminders(db, { now: clock.now(), links });
    expect(counts.mails).toBeGreaterThan(0);
    const mails = await db('outbox').where({ tenant_id: tenantId, kind: 'renewal_reminder' });
    const toOwner = mails.find((m) => m.recipient === 'owner@northwind.test');
    expect(toOwner).toBeTruthy();
    expect(toOwner.subject).toMatch(/^Erinnerung an die Verlängerung: /);
    expect(toOwner.body_text).toContain('Guten Tag ');
    expect(toOwner.body_text).toContain('Als Firmenadministrator von ');
    expect(toOwner.body_text).toMatch(/(jährlicher|vierteljährlicher) Tarif, verlängert sich am \d{1,2}\. \S+ \d{4}/);
    expect(toOwner.body_text).toContain('Erinnerungen an Verlängerungen abbestellen: ');
    expect(toOwner.body_text).not.toContain('Renewal reminder');
    expect(toOwner.body_text).not.toContain('Why you get this mail');

    const toFleet = mails.find((m) => m.recipient === 'fleet@northwind.test');
    expect(toFleet).toBeTruthy();
    expect(toFleet.subject).toMatch(/^Renewal reminder: /);
    expect(toFleet.body_text).toContain('Why you get this mail: you are assigned to the group Trucks.');
  });
});

describe('an English reader', () => {
  it('still reads the list, the fragment, the pages and the CSV in English', async () => {
    const page = await english.agent.get('/assets');
    expect(page.text).toContain('<html lang="en">');
    expect(page.text).toContain('<h1>Assets</h1>');
    expect(page.text).toContain('<th scope="col">Identifier</th>');
    expect(page.text).toMatch(/<caption>Showing \d+ of [\d,]+ assets<\/caption>/);
    expect(page.text).not.toContain('Kennung');

    const fragment = await english.agent.get('/assets?tab=active').set('HX-Request', 'true');
    expect(fragment.text).toMatch(/<caption>Showing \d+ of [\d,]+ assets in Active<\/caption>/);

    const asset = await english.agent.get(`/assets/${anAsset.id}`);
    expect(asset.text).toContain('<dt>Current term</dt>');
    expect(asset.text).toMatch(
      /\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4}/,
    );

    const group = await english.agent.get(`/groups/${trucks}`);
    expect(group.text).toContain('<dt>Active assets</dt>');
    expect(group.text).toContain('within 4 weeks');

    const csv = await english.agent.get('/assets.csv');
    expect(csv.text.split(/\r?\n/)[0]).toMatch(/^Identifier,Name,Group,(Customer,)?Status,Plan,Renewal date,Renewal,/);
  });

  it('reads German when the browser asks for it and no language was chosen', async () => {
    const page = await english.agent.get('/assets').set('Accept-Language', 'de-DE,de;q=0.9');
    expect(page.text).toContain('<h1>Geräte</h1>');
    expect(page.text).toContain('<th scope="col">Kennung</th>');
  });
});
