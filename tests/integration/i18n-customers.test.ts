import { describe, expect, it } from 'vitest';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { translator } from '../../src/services/platform/i18n.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeUser, TEST_PASSWORD } from '../support/factories.js';
import { decode, fieldError } from '../support/forms.js';

/**
 * The staff's customer pages speak the reader's language: a tenant admin who chose German reads the
 * customer list, a customer's tabs, the add-user form and its messages, flashes and the audit CSV in
 * German; a colleague who chose nothing reads them in English, or in German when the browser asks.
 */

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db });
const demo = demoId('tenant:demo');
const northwind = demoId('customer:northwind');

await db('users').where({ email: 'admin@demo.test' }).update({ locale: 'de' });
const german = await signedInAgent(app, 'admin@demo.test');
const germanZone = (await db('users').where({ email: 'admin@demo.test' }).first<{ time_zone: string }>()).time_zone;
const colleague = await makeUser(db, { tenantId: demo, role: 'tenant_admin' });
const english = await signedInAgent(app, colleague.email, TEST_PASSWORD);
const englishZone = (await db('users').where({ id: colleague.id }).first<{ time_zone: string }>()).time_zone;

type Agent = Awaited<ReturnType<typeof signedInAgent>>;
const post = (who: Agent, path: string, fields: Record<string, string>) =>
  who.agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: who.csrf });
const expectAll = (html: string, present: string[], absent: string[]) => {
  const text = decode(html);
  for (const p of present) expect(text).toContain(p);
  for (const a of absent) expect(text).not.toContain(a);
};

describe('a tenant admin who chose German', () => {
  it('reads the customer list in German, the htmx fragment too', async () => {
    const res = await german.agent.get('/admin/customers');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="de">');
    expectAll(
      res.text,
      ['<h1>Kunden</h1>', 'Neuer Kunde', 'Nach Titel oder Konto-ID suchen', 'Zeilen pro Seite', '>Konto-ID</th>'],
      ['New customer', 'Search by title or account ID', 'Rows per page', '>Account ID</th>'],
    );
    expect(res.text).toMatch(/class="badge badge-active">Aktiv</);

    const fragment = await german.agent.get('/admin/customers?q=north').set('HX-Request', 'true');
    expect(fragment.status).toBe(200);
    expectAll(fragment.text, ['Kunden passen zu „north“.', 'Übergeordnet'], ['customers match', 'Parent']);
  });

  it("reads a customer's details, with its tabs and dates in German", async () => {
    const res = await german.agent.get(`/admin/customers/${northwind}`);
    expect(res.status).toBe(200);
    expectAll(
      res.text,
      ['Übergeordneter Kunde', 'Ansprechpartner', 'Startseite', 'Gerätekarte', 'Unterkunden', 'Kunden bearbeiten'],
      ['Parent customer', 'Contact name', 'Devices map', 'Inner customers', 'Edit customer'],
    );
    // the tabs
    expectAll(res.text, ['>Übersicht<', '>Benutzer<', '>Abrechnung<', '>Änderungsprotokoll<'], ['>Overview<']);
    const { created_at } = await db('customers').where({ id: northwind }).first<{ created_at: Date }>();
    expect(res.text).toContain(`>${translator('de').dateTime(created_at, germanZone)}</time>`);
  });

  it('reads the Users tab and the add-user form in German, its field errors too', async () => {
    const users = await german.agent.get(`/admin/customers/${northwind}/users`);
    expect(users.status).toBe(200);
    expectAll(
      users.text,
      ['Benutzer hinzufügen', 'Nach Name oder E-Mail suchen', 'Firmenadministrator'],
      ['Add user', 'Search by name or email', 'Company admin'],
    );

    const form = await german.agent.get(`/admin/customers/${northwind}/users/new`);
    expect(form.status).toBe(200);
    expectAll(
      form.text,
      ['Benutzer zu Northwind Logistics hinzufügen', 'E-Mail-Adresse', 'Rolle wählen', 'Aktivierungsweg'],
      ['Add a user to', 'Email address', 'Choose a role', 'Activation method'],
    );

    const refused = await post(german, `/admin/customers/${northwind}/users`, {
      name: '',
      email: '',
      role: '',
      activation: '',
    });
    expect(refused.status).toBe(422);
    expect(fieldError(refused.text, 'name')).toBe('Geben Sie den Namen des Benutzers ein.');
    expect(fieldError(refused.text, 'email')).toBe('Geben Sie eine E-Mail-Adresse ein.');
    expect(fieldError(refused.text, 'role')).toBe('Wählen Sie eine der Rollen.');
    expect(fieldError(refused.text, 'activation')).toBe('Wählen Sie, wie der Benutzer sein Konto aktiviert.');
    expectAll(refused.text, ['Bitte korrigieren Sie die unten markierten Felder.'], ['Enter an email address.']);
  });

  it('reads the Billing tab in German', async () => {
    const res = await german.agent.get(`/admin/customers/${northwind}/billing`);
    expect(res.status).toBe(200);
    expectAll(
      res.text,
      ['Verbindungsübersicht', 'Kontakte', 'Interne Nummernblöcke', 'Kontobuch', 'Kreditlimit'],
      ['Call summaries', 'Internal number blocks', '>Ledger<', 'Record a payment or a credit note'],
    );
  });

  it('reads a flash, the Audit log tab and its CSV header in German', async () => {
    const saved = await post(german, `/admin/customers/${northwind}`, {
      title: 'Northwind Logistics',
      account_id: 'NW-1001',
      contact_name: 'Nora North',
      email: '',
      phone: '',
      address: '',
      parent_id: '',
      home_page: 'summary',
      status: 'active',
    });
    expect(saved.status).toBe(303);
    const after = await german.agent.get(saved.headers.location!);
    expect(after.text).toContain('Kunde Northwind Logistics wurde gespeichert.');

    const tab = await german.agent.get(`/admin/customers/${northwind}/audit`);
    expect(tab.status).toBe(200);
    expectAll(
      tab.text,
      ['<h2>Änderungsprotokoll</h2>', 'Als CSV exportieren', '>Zeit</th>', '>Unterschied</th>', 'Unterschied ansehen'],
      ['Export as CSV', '>Difference</th>', 'View difference'],
    );

    const csv = await german.agent.get(`/admin/customers/${northwind}/audit.csv`).buffer(true);
    expect(csv.status).toBe(200);
    const lines = csv.text.split('\n');
    expect(lines[0]).toBe(`Zeit (${germanZone}),Von,Objekt,Objekt-ID,Aktion,Unterschied`);
    expect(csv.text).toContain('customer.updated');
  });
});

describe('mail from the customer pages, in the recipient’s language', () => {
  it('mails a reset password to a contact who chose German in German', async () => {
    const fleet = demoId('user:fleet@northwind.test');
    await db('users').where({ id: fleet }).update({ locale: 'de' });
    const res = await post(english, `/admin/customers/${northwind}/billing/contacts/${fleet}/password`, {
      passwordMode: 'generate',
    });
    expect(res.status).toBe(303);
    const mail = await db('outbox')
      .where({ recipient: 'fleet@northwind.test', kind: 'contact_password_reset' })
      .first<{ subject: string; body_text: string }>('subject', 'body_text');
    expect(mail.subject).toBe('Ihr neues Portico-Passwort');
    expect(mail.body_text).toContain('hat das Passwort Ihres Portico-Kontos für Northwind Logistics zurückgesetzt.');
    expect(mail.body_text).toMatch(/ {2}Passwort: \S+/);
    expect(mail.body_text).not.toContain('reset the password');
  });

  it('mails a two-factor reset in German to a person who chose German, in English to one who did not', async () => {
    const people = [
      await makeUser(db, { tenantId: demo, role: 'group_admin', customerId: northwind }),
      await makeUser(db, { tenantId: demo, role: 'group_admin', customerId: northwind }),
    ];
    await db('users').where({ id: people[0]!.id }).update({ locale: 'de' });
    for (const person of people) {
      await db('two_factor_logins').insert({ user_id: person.id, secret: 'not used here' });
      const page = await german.agent.get(`/admin/customers/${northwind}/users/${person.id}/two-factor`);
      expectAll(page.text, ['Zwei-Faktor-Anmeldung zurücksetzen'], ['Reset two-factor sign-in']);
      const res = await post(german, `/admin/customers/${northwind}/users/${person.id}/two-factor/reset`, {});
      expect(res.status).toBe(303);
    }
    const mailTo = (email: string) =>
      db('outbox')
        .where({ recipient: email, kind: 'two_factor_reset' })
        .first<{ subject: string; body_text: string }>('subject', 'body_text');
    const de = await mailTo(people[0]!.email);
    expect(de.subject).toBe('Ihre Zwei-Faktor-Anmeldung wurde ausgeschaltet');
    expect(de.body_text).toContain('hat die Zwei-Faktor-Anmeldung für Ihren Portico-Zugang ausgeschaltet.');
    const en = await mailTo(people[1]!.email);
    expect(en.subject).toBe('Your two-factor sign-in was turned off');
    expect(en.body_text).toContain('turned off two-factor sign-in for your Portico login.');
  });
});

describe('a colleague who chose no language', () => {
  it('still reads English: the list, the form errors and the CSV header', async () => {
    const list = await english.agent.get('/admin/customers');
    expect(list.text).toContain('<html lang="en">');
    expectAll(list.text, ['<h1>Customers</h1>', 'New customer', 'Rows per page'], ['Neuer Kunde', 'Zeilen']);

    const refused = await post(english, `/admin/customers/${northwind}/users`, {
      name: '',
      email: '',
      role: '',
      activation: 'email',
    });
    expect(refused.status).toBe(422);
    expect(fieldError(refused.text, 'email')).toBe('Enter an email address.');
    expect(fieldError(refused.text, 'role')).toBe('Choose one of the roles.');
    expectAll(refused.text, ['Add a user to Northwind Logistics'], ['Benutzer hinzufügen']);

    const csv = await english.agent.get(`/admin/customers/${northwind}/audit.csv`).buffer(true);
    expect(csv.text.split('\n')[0]).toBe(`Time (${englishZone}),By,Entity,Entity id,Action,Difference`);
  });

  it('reads German when the browser asks for it', async () => {
    const res = await english.agent.get(`/admin/customers/${northwind}/users`).set('Accept-Language', 'de-DE,de;q=0.9');
    expect(res.text).toContain('<html lang="de">');
    expectAll(res.text, ['Benutzer hinzufügen'], ['Add user']);
  });
});
