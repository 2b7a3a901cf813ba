import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { verifyAuditChainsAndNotify } from '../../src/services/platform/index.js';
import { makeOperator } from '../support/factories.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

/**
 * Issue 24 for the provider staff's pages: a tenant admin who chose German in their settings reads
 * requests, partners, mail, jobs, the audit log, API keys, settings and imports in German (their field
 * errors too), and one who chose nothing reads them in English as before.
 */

const NOW = new Date('2026-12-06T12:00:00Z');
const { db } = await testDatabase();
await seedDemo(db, { now: NOW });
const { app } = testApp({ db, clock: fixedClock(NOW) });

await db('users').where({ email: 'admin@demo.test' }).update({ locale: 'de' });
const german = await signedInAgent(app, 'admin@demo.test');

/** The page's text without tags, entities decoded, for looking for words. */
const textOf = (html: string) =>
  html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

async function page(agent: typeof german.agent, url: string) {
  const res = await agent.get(url);
  expect(res.status, url).toBe(200);
  return { html: res.text, text: textOf(res.text) };
}

/** A German date as the translator writes it: "6. Dez. 2026". */
const GERMAN_DAY = /\b\d{1,2}\. (Jan|Feb|März|Apr|Mai|Juni|Juli|Aug|Sept|Okt|Nov|Dez)\.? \d{4}/;

describe('the staff pages in German', () => {
  it('shows requests, partners and mail in German', async () => {
    const requests = await page(german.agent, '/admin/requests');
    expect(requests.html).toContain('<html lang="de">');
    expect(requests.html).toContain('<title>Anfragen · Portico</title>');
    expect(requests.text).toContain('die noch ausstehen, älteste zuerst');
    expect(requests.text).toContain('Alle Kunden');
    expect(requests.text).toContain('Filtern');
    expect(requests.text).not.toContain('that customers asked for');
    expect(requests.text).not.toContain('All customers');

    const partners = await page(german.agent, '/admin/partners');
    expect(partners.text).toContain('Wiederverkäufer');
    expect(partners.text).toContain('Neuer Partner');
    expect(partners.text).toContain('Partner anlegen');
    expect(partners.text).not.toContain('Create partner');

    const mail = await page(german.agent, '/admin/mail');
    expect(mail.text).toContain('Ausgehende E-Mails');
    expect(mail.text).toContain('Zurückbehalten: nicht gesendet');
    expect(mail.text).not.toContain('Outgoing mail');
    expect(mail.text).not.toContain('newest first');
  });

  it('shows jobs, the audit log with German dates, API keys and settings in German', async () => {
    const jobs = await page(german.agent, '/admin/jobs');
    expect(jobs.text).toContain('Automatische Verlängerungen');
    expect(jobs.text).toContain('Erinnerungen an Verlängerungen');
    expect(jobs.text).not.toContain('Automatic renewals');

    const audit = await page(german.agent, '/admin/audit');
    expect(audit.text).toContain('Änderungsprotokoll');
    expect(audit.text).toContain('Art der Änderung');
    expect(audit.text).toContain('Download für Prüfer');
    expect(audit.text).not.toContain('Kind of change');
    // the demo's changes, each at a German time
    expect(audit.text).toMatch(GERMAN_DAY);

    const keys = await page(german.agent, '/admin/api-keys');
    expect(keys.text).toContain('API-Schlüssel');
    expect(keys.text).toContain('Schlüssel erstellen');
    expect(keys.text).toContain('Gerätestandorte senden');
    expect(keys.text).not.toContain('Create a key');
    expect(keys.text).not.toContain('Send device locations');

    const settings = await page(german.agent, '/admin/settings');
    expect(settings.html).toContain('<title>Anbieter-Einstellungen · Portico</title>');
    expect(settings.text).toContain('Links der Hilfeseite');
    expect(settings.text).toContain('Nummernbereich');
    expect(settings.text).toContain('Zwei-Faktor-Anmeldung');
    expect(settings.text).toContain('Dokumentation');
    expect(settings.text).not.toContain('Help page links');
    expect(settings.text).not.toContain('Number range');
  });

  it('answers a form in German: a key without a name, and a saved section', async () => {
    const refused = await german.agent
      .post('/admin/api-keys')
      .type('form')
      .send({ _csrf: german.csrf, name: '  ', scopes: ['locations:write'] });
    expect(refused.status).toBe(422);
    expect(textOf(refused.text)).toContain(
      'Geben Sie dem Schlüssel einen Namen, der sagt, welches System ihn verwendet.',
    );
    expect(refused.text).not.toContain('Give the key a name');

    const saved = await german.agent
      .post('/admin/settings/two-factor')
      .type('form')
      .send({ _csrf: german.csrf, staff: '', companyAdmins: '' });
    expect(saved.status).toBe(303);
    const after = await page(german.agent, '/admin/settings');
    expect(after.text).toMatch(
      /Anforderungen an die Zwei-Faktor-Anmeldung|An den Anforderungen an die Zwei-Faktor-Anmeldung/,
    );
  });

  it('shows imports in German, their columns and the problems of a file', async () => {
    const imports = await page(german.agent, '/admin/imports');
    expect(imports.text).toContain('Importe');
    expect(imports.text).toContain('Datei prüfen');
    expect(imports.text).toContain('Gerätestandorte');
    expect(imports.text).toContain('(erforderlich)');
    expect(imports.text).not.toContain('Check the file');

    const csv =
      'identifier,latitude,longitude,recorded_at\n' +
      'NOPE-1,north,0,2026-12-01T08:30:00Z\n' +
      'NOPE-2,52.5,13.4,2026-12-01T08:30:00Z\n' +
      `${'X'.repeat(70)},52.5,13.4,2026-12-01T08:30:00Z\n`;
    const res = await german.agent
      .post(`/admin/imports?_csrf=${encodeURIComponent(german.csrf)}`)
      .field('kind', 'locations')
      .attach('file', Buffer.from(csv), { filename: 'orte.csv', contentType: 'text/csv' });
    expect(res.status).toBe(303);
    const shown = await page(german.agent, res.headers.location!);
    expect(shown.text).toContain('Die Datei hat 3 Probleme: Es wurde nichts geschrieben');
    expect(shown.text).toContain('muss eine Zahl sein');
    expect(shown.text).toContain('nennt keines Ihrer Geräte');
    expect(shown.text).toContain('hat höchstens 64 Zeichen');
    expect(shown.text).toContain('hochgeladen von');
    expect(shown.text).toMatch(GERMAN_DAY);
    expect(shown.text).not.toContain('must be a number');

    // no file: the field's error in German
    const none = await german.agent
      .post(`/admin/imports?_csrf=${encodeURIComponent(german.csrf)}`)
      .field('kind', 'locations');
    expect(none.status).toBe(422);
    expect(textOf(none.text)).toContain('Wählen Sie eine CSV-Datei.');
  });
});

describe('the sites, a partner and a mail in German', () => {
  it('shows the sites, a site with its visits at German times, and its form in German', async () => {
    const sites = await page(german.agent, '/admin/sites');
    expect(sites.text).toContain('Standorte');
    expect(sites.text).toContain('Nach Standort oder Kunde suchen');
    expect(sites.text).toContain('Dienstleistung hinzufügen');
    expect(sites.text).toMatch(GERMAN_DAY);
    expect(sites.text).not.toContain('Search by site or customer');
    const first = /href="(\/admin\/sites\/[0-9a-f-]{36})"/.exec(sites.html)![1]!;
    const site = await page(german.agent, first);
    expect(site.text).toContain('Letzte Besuche');
    expect(site.text).toContain('Besuch erfassen');
    expect(site.text).toMatch(/ bis \d{1,2}\. /);
    expect(site.text).not.toContain('Latest visits');
    const form = await page(german.agent, '/admin/sites/new');
    expect(form.text).toContain('Neuer Standort');
    expect(form.text).toContain('Keinem Kunden zugeordnet');
  });

  it('shows a partner, adding its user, and a kept mail in German', async () => {
    const created = await german.agent
      .post('/admin/partners')
      .type('form')
      .send({ _csrf: german.csrf, name: 'Weiterverkauf GmbH' });
    expect(created.status).toBe(303);
    const partner = await page(german.agent, created.headers.location!);
    expect(partner.text).toContain('Partner Weiterverkauf GmbH angelegt.');
    expect(partner.text).toContain('Zugewiesene Kunden');
    expect(partner.text).toContain('Einen Kunden zuweisen');
    expect(partner.text).not.toContain('Assigned customers');
    const newUser = await page(german.agent, `${created.headers.location!}/users/new`);
    expect(newUser.text).toContain('Benutzer zu Weiterverkauf GmbH hinzufügen');
    expect(newUser.text).toContain('E-Mail-Adresse');
    const taken = await german.agent.post('/admin/partners').type('form').send({ _csrf: german.csrf, name: '' });
    expect(taken.status).toBe(422);
    expect(textOf(taken.text)).toContain('Geben Sie den Namen des Partners ein.');

    await german.agent
      .post(`${created.headers.location!}/users`)
      .type('form')
      .send({ _csrf: german.csrf, name: 'Paula Partner', email: 'paula@weiterverkauf.test', activation: 'email' });
    const list = await page(german.agent, '/admin/mail');
    const mail = /href="(\/admin\/mail\/\d+)"/.exec(list.html)![1]!;
    const shown = await page(german.agent, mail);
    expect(shown.text).toContain('Dies ist Ihr eigener Postausgang');
    expect(shown.text).toContain('Versuche');
    expect(shown.text).toContain('Aktivierung');
    expect(shown.text).toMatch(GERMAN_DAY);
    expect(shown.text).not.toContain('This is your own outbox');
  });
});

describe('the staff pages in English', () => {
  it('stay English for an admin who chose no language and whose browser asks for none', async () => {
    const english = await signedInAgent(app, 'admin@other.test');
    const requests = await page(english.agent, '/admin/requests');
    expect(requests.html).toContain('<html lang="en">');
    expect(requests.text).toContain('still pending, oldest first');
    const settings = await page(english.agent, '/admin/settings');
    expect(settings.text).toContain('Help page links');
    expect(settings.text).not.toContain('Links der Hilfeseite');
    const imports = await page(english.agent, '/admin/imports');
    expect(imports.text).toContain('Check the file');
    expect(imports.text).toContain('Device locations');
    const refused = await english.agent
      .post('/admin/api-keys')
      .type('form')
      .send({ _csrf: english.csrf, name: '', scopes: ['locations:write'] });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('Give the key a name that says which system uses it.');
    const audit = await page(english.agent, '/admin/audit');
    expect(audit.text).toContain('Kind of change');
    expect(audit.text).not.toMatch(GERMAN_DAY);
  });

  it('follows a German browser for an admin who chose no language', async () => {
    const browser = await signedInAgent(app, 'admin@other.test');
    const res = await browser.agent.get('/admin/jobs').set('Accept-Language', 'de-DE,de;q=0.9,en;q=0.5');
    expect(res.status).toBe(200);
    expect(textOf(res.text)).toContain('Automatische Verlängerungen');
  });
});

describe('the audit chain mail', () => {
  it('tells each operator of a broken chain in their own language', async () => {
    const tenantId = demoId('tenant:demo');
    const germanOperator = await makeOperator(db);
    await db('users').where({ id: germanOperator.id }).update({ locale: 'de' });
    const englishOperator = await makeOperator(db);
    const entry = (await db('audit_log').where({ tenant_id: tenantId }).orderBy('chain_seq').first('id')) as {
      id: number;
    };
    await db.transaction(async (trx) => {
      await trx.raw("set local portico.audit_rewrite = 'on'");
      await trx('audit_log')
        .where({ tenant_id: tenantId, id: entry.id })
        .update({ after: JSON.stringify({ quietly: 'changed' }) });
    });
    await verifyAuditChainsAndNotify(db);
    const mailTo = async (email: string) =>
      (await db('outbox').where({ recipient: email, kind: 'audit_chain_broken' }).first('subject', 'body_text')) as {
        subject: string;
        body_text: string;
      };
    const de = await mailTo(germanOperator.email);
    expect(de.subject).toBe(`Änderungsprotokoll von Demo Telematics bei Eintrag ${entry.id} verändert`);
    expect(de.body_text).toContain('Die nächtliche Prüfung des Änderungsprotokolls hat festgestellt');
    expect(de.body_text).toContain('sein Inhalt passt nicht mehr zu seinem Hash');
    expect(de.body_text).not.toContain('nightly check');
    const en = await mailTo(englishOperator.email);
    expect(en.subject).toBe(`Audit log of Demo Telematics altered at entry ${entry.id}`);
    expect(en.body_text).toContain('its content no longer matches its hash');
  });
});
