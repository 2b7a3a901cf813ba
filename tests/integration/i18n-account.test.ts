import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

/**
 * The account area in German: sign-in, settings, users, home and help for a reader who chose German
 * (users.locale) or whose browser asks for it, mails in the recipient's language, and English unchanged.
 */

const { db } = await testDatabase();
await seedDemo(db);
const { app, ctx } = testApp({ db });

const OWNER = 'owner@northwind.test';
const ownerId = demoId(`user:${OWNER}`);
const GERMAN = { 'Accept-Language': 'de-DE,de;q=0.9,en;q=0.5' };
const ENGLISH = { 'Accept-Language': 'en-GB,en;q=0.9' };

const setLocale = (userId: string, locale: string | null) => db('users').where({ id: userId }).update({ locale });

/** The newest mail of a kind to an address, as queued in the outbox. */
async function newestMail(recipient: string, kind: string) {
  await ctx.mailPump.idle();
  return db('outbox')
    .where({ recipient, kind })
    .orderBy('id', 'desc')
    .first<{ subject: string; body_text: string }>('subject', 'body_text');
}

describe('signing in', () => {
  it('speaks German to a browser that asks for it, and English to one that does not', async () => {
    const de = await supertest(app).get('/login').set(GERMAN);
    expect(de.status).toBe(200);
    expect(de.text).toContain('<html lang="de">');
    expect(de.text).toContain('<title>Anmelden · Portico</title>');
    expect(de.text).toContain('E-Mail-Adresse');
    expect(de.text).toContain('Passwort vergessen?');
    expect(de.text).not.toContain('Forgot your password?');
    expect(de.text).not.toContain('Email address');

    const en = await supertest(app).get('/login').set(ENGLISH);
    expect(en.text).toContain('<html lang="en">');
    expect(en.text).toContain('Forgot your password?');
    expect(en.text).toContain('Email address');
    expect(en.text).not.toContain('Passwort vergessen?');
  });

  it('says why a sign-in was refused in German', async () => {
    const agent = supertest.agent(app);
    const page = await agent.get('/login').set(GERMAN);
    const res = await agent
      .post('/login')
      .set(GERMAN)
      .type('form')
      .send({ email: OWNER, password: 'not the password at all', _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(422);
    expect(res.text).toContain('E-Mail-Adresse oder Passwort ist nicht richtig.');
    expect(res.text).not.toContain('The email address or password is not right.');
  });

  it('shows the forgotten-password pages in German', async () => {
    const res = await supertest(app).get('/password/forgot').set(GERMAN);
    expect(res.text).toContain('Link senden');
    expect(res.text).toContain('Zurück zur Anmeldung');
    expect(res.text).not.toContain('Send the link');
  });
});

describe('settings', () => {
  it('are in English for an English reader', async () => {
    await setLocale(ownerId, null);
    const { agent } = await signedInAgent(app, OWNER);
    const page = await agent.get('/settings').set(ENGLISH);
    expect(page.text).toContain('<h1>Settings</h1>');
    expect(page.text).toContain('Save profile');
    expect(page.text).toContain('Your sessions');
    expect(page.text).not.toContain('Einstellungen');
  });

  it('are in German for a person who chose German, whatever their browser asks', async () => {
    await setLocale(ownerId, 'de');
    const { agent } = await signedInAgent(app, OWNER);
    const page = await agent.get('/settings').set(ENGLISH);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<html lang="de">');
    expect(page.text).toContain('<h1>Einstellungen</h1>');
    expect(page.text).toContain('Profil speichern');
    expect(page.text).toContain('Ihre Sitzungen');
    expect(page.text).toContain('Zwei-Faktor-Anmeldung verwalten');
    expect(page.text).toContain('Erinnerungen an Verlängerungen');
    // the navigation the layout draws from the access service's labels
    expect(page.text).toContain('>Benutzer</a>');
    for (const english of ['Save profile', 'Your sessions', 'Change password', 'Renewal reminders', '>Users</a>'])
      expect(page.text).not.toContain(english);
  });

  it('switch to German when German is chosen, and back to the browser language when cleared', async () => {
    await setLocale(ownerId, null);
    const { agent } = await signedInAgent(app, OWNER);
    const user = await db('users').where({ id: ownerId }).first<{ name: string; time_zone: string }>();
    const form = await agent.get('/settings').set(ENGLISH);
    expect(form.text).toContain('Save profile');
    const save = (language: string) =>
      agent
        .post('/settings/profile')
        .set(ENGLISH)
        .type('form')
        .send({ name: user!.name, timeZone: user!.time_zone, language, _csrf: csrfFrom(form.text) });

    expect((await save('de')).status).toBe(303);
    const german = await agent.get('/settings').set(ENGLISH);
    expect(german.text).toContain('Ihr Profil wurde gespeichert.');
    expect(german.text).toContain('Profil speichern');
    expect(german.text).not.toContain('Save profile');

    expect((await save('')).status).toBe(303);
    const english = await agent.get('/settings').set(ENGLISH);
    expect(english.text).toContain('Your profile has been saved.');
    expect(english.text).toContain('Save profile');
    // with no choice, the browser's language decides
    const byBrowser = await agent.get('/settings').set(GERMAN);
    expect(byBrowser.text).toContain('Profil speichern');
  });

  it('refuses a language Portico does not speak, next to the field, and keeps the one chosen', async () => {
    await setLocale(ownerId, 'de');
    const { agent } = await signedInAgent(app, OWNER);
    const user = await db('users').where({ id: ownerId }).first<{ name: string; time_zone: string }>();
    const form = await agent.get('/settings').set(ENGLISH);
    for (const language of ['fr', "de' or '1'='1", 'x'.repeat(5000)]) {
      const res = await agent
        .post('/settings/profile')
        .set(ENGLISH)
        .type('form')
        .send({ name: user!.name, timeZone: user!.time_zone, language, _csrf: csrfFrom(form.text) });
      expect(res.status).toBe(422);
      expect(res.text).toContain('Wählen Sie eine Sprache aus der Liste.');
    }
    expect((await db('users').where({ id: ownerId }).first('locale')).locale).toBe('de');
  });
});

describe('users, home and help', () => {
  it('list the users in German, with German roles and statuses', async () => {
    await setLocale(ownerId, 'de');
    const { agent } = await signedInAgent(app, OWNER);
    const page = await agent.get('/users');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Benutzer</h1>');
    expect(page.text).toContain('Nach Name oder E-Mail suchen');
    expect(page.text).toContain('Firmenadministrator');
    expect(page.text).toContain('>Aktiv</span>');
    for (const english of ['Search by name or email', 'Company admin', 'Rows per page'])
      expect(page.text).not.toContain(english);

    const add = await agent.get('/users/new');
    expect(add.text).toContain('Benutzer hinzufügen');
    expect(add.text).toContain('Aktivierungslink per E-Mail senden (empfohlen)');
    expect(add.text).not.toContain('Email them an activation link');
  });

  it('show the home and help pages in German', async () => {
    await setLocale(ownerId, 'de');
    const { agent } = await signedInAgent(app, OWNER);
    const home = await agent.get('/').redirects(1);
    expect(home.text).toContain('Ihre Geräte');
    expect(home.text).not.toContain('Your assets');
    const help = await agent.get('/help');
    expect(help.text).toContain('<h1>Hilfe</h1>');
  });

  it('show a person whose name holds ICU syntax as it is, in the page and its title', async () => {
    await setLocale(ownerId, 'de');
    const { agent } = await signedInAgent(app, OWNER);
    const someone = await db('memberships as m')
      .join('users as u', 'u.id', 'm.user_id')
      .where({ 'm.customer_id': demoId('customer:northwind') })
      .whereNot('u.id', ownerId)
      .first<{ id: string }>('u.id as id');
    await db('users').where({ id: someone!.id }).update({ name: "Brace {it's} Person" });
    const page = await agent.get(`/users/${someone!.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>Brace {it&#39;s} Person · Portico</title>');
    expect(page.text).toContain('Name, Rolle oder Status ändern');
  });

  it('stay English for an English reader', async () => {
    await setLocale(ownerId, null);
    const { agent } = await signedInAgent(app, OWNER);
    const page = await agent.get('/users').set(ENGLISH);
    expect(page.text).toContain('<h1>Users</h1>');
    expect(page.text).toContain('Search by name or email');
    expect(page.text).toContain('Company admin');
    expect(page.text).not.toContain('Benutzer');
  });
});

describe('mail', () => {
  it('sends a password reset link in the language its recipient chose', async () => {
    await setLocale(ownerId, 'de');
    const agent = supertest.agent(app);
    const page = await agent.get('/password/forgot');
    const res = await agent
      .post('/password/forgot')
      .type('form')
      .send({ email: OWNER, _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(200);
    const mail = await newestMail(OWNER, 'password_reset');
    expect(mail?.subject).toBe('Setzen Sie Ihr Portico-Passwort zurück');
    expect(mail?.body_text).toContain('Guten Tag');
    expect(mail?.body_text).toContain('Der Link läuft in einer Stunde ab und funktioniert nur einmal.');
    expect(mail?.body_text).not.toContain('The link expires');
  });

  it('sends an activation mail in English to a new login, and in German once the person chose German', async () => {
    await setLocale(ownerId, null);
    const { agent, csrf } = await signedInAgent(app, OWNER);
    const email = `neu-${Date.now().toString(36)}@northwind.test`;
    const added = await agent
      .post('/users')
      .type('form')
      .send({
        name: 'Nina Neu',
        email,
        role: 'company_admin',
        activation: 'email',
        customerId: demoId('customer:northwind'),
        _csrf: csrf,
      });
    expect(added.status).toBe(303);
    const first = await newestMail(email, 'activation');
    expect(first?.subject).toBe('Activate your Portico account');
    expect(first?.body_text).toContain('Hello Nina Neu,');

    const userId = /\/users\/([0-9a-f-]+)/.exec(added.headers.location!)![1]!;
    await setLocale(userId, 'de');
    const again = await agent.post(`/users/${userId}/activation-email`).type('form').send({ _csrf: csrf });
    expect(again.status).toBe(303);
    const second = await newestMail(email, 'activation');
    expect(second?.subject).toBe('Aktivieren Sie Ihr Portico-Konto');
    expect(second?.body_text).toContain('Guten Tag Nina Neu,');
    expect(second?.body_text).toContain('Frühere Links funktionieren nicht mehr.');
    expect(second?.body_text).not.toContain('Earlier links no longer work.');

    // the link opens a page in the browser's language, and activating keeps that language for mail
    const path = new URL(/(https?:\/\/\S+\/activate\/[A-Za-z0-9_-]+)/.exec(second!.body_text)![1]!).pathname;
    const visitor = supertest.agent(app);
    const form = await visitor.get(path).set(GERMAN);
    expect(form.text).toContain('Ihr Konto aktivieren');
    expect(form.text).toContain('Neues Passwort wiederholen');
    expect(form.text).not.toContain('Repeat the new password');
    const password = 'a long and fresh passphrase';
    const done = await visitor
      .post(path)
      .set(GERMAN)
      .type('form')
      .send({ password, passwordConfirm: password, _csrf: csrfFrom(form.text) });
    expect(done.status).toBe(303);
    const row = await db('users').where({ id: userId }).first<{ browser_locale: string | null }>('browser_locale');
    expect(row?.browser_locale).toBe('de');
  });
});
