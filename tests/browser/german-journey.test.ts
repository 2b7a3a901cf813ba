import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { demoId } from '../../src/demo/data.js';
import { expectUniqueIds, mailJourney, signInThroughForm } from '../support/browser.js';

/**
 * Issue 24: a person who chooses German sees a whole journey in German — its pages, the file it
 * downloads and the mail it brings — while the browser itself asks for English, and the colleague who
 * answers keeps reading English.
 */
const { db, smtp, baseUrl, browser } = await mailJourney();
const truck = (await db('assets')
  .where({ group_id: demoId('group:trucks'), status: 'active' })
  .orderBy('identifier')
  .first('id', 'identifier')) as { id: string; identifier: string };

/** words of the English interface that a German page must not show (names and data aside) */
const ENGLISH = ['Sign out', 'Settings', 'Search', 'Save', 'Assets', 'Subject', 'Message', 'Open ticket', 'Renews'];

async function readsGerman(page: Page, expected: string[]): Promise<void> {
  await expect(page.locator('html').getAttribute('lang')).resolves.toBe('de');
  const text = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
  for (const de of expected) expect(text, `${page.url()} shows “${de}”`).toContain(de);
  for (const en of ENGLISH) expect(text, `${page.url()} shows no English “${en}”`).not.toContain(en);
  await expectUniqueIds(page);
}

describe('a company admin who reads Portico in German', () => {
  it('chooses German in the settings, then works through assets, a CSV and a ticket, and gets the reply in German', async () => {
    const page = await signInThroughForm(await browser.newPage(), baseUrl, 'owner@northwind.test');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');

    // the choice, in the settings: the same page comes back in German
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.waitForURL(`${baseUrl}/settings`);
    await readsGerman(page, ['Einstellungen', 'Ihr Profil wurde gespeichert.', 'Sprache', 'Abmelden']);
    await expect(page.getByLabel('Sprache').inputValue()).resolves.toBe('de');

    // the asset list, its search and its CSV
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Geräte' }).click();
    await page.waitForURL((url) => url.pathname === '/assets');
    await readsGerman(page, ['Geräte', 'Kennung', 'Aktiv']);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Diese Seite exportieren (CSV)' }).click(),
    ]);
    const header = (await readFile((await download.path())!, 'utf8')).split('\n')[0]!;
    expect(header).toContain('Kennung');
    expect(header).not.toMatch(/Identifier|Status,Plan|Renews/);

    // an asset, and a ticket about it
    await page.goto(`${baseUrl}/assets/${truck.id}`);
    await readsGerman(page, [truck.identifier, 'Ein Ticket zu diesem Gerät eröffnen']);
    await page.getByRole('link', { name: 'Ein Ticket zu diesem Gerät eröffnen' }).click();
    await page.waitForURL((url) => url.pathname === '/tickets/new');
    await readsGerman(page, ['Betreff', 'Worum geht es?', 'Nachricht']);
    await page.getByRole('button', { name: 'Ticket eröffnen' }).click();
    // nothing filled in: the errors are German, next to their fields
    await expect(page.locator('[id$="-error"]').first().innerText()).resolves.toMatch(/[äöüß]|Geben Sie|Wählen Sie/);
    await page.getByLabel('Betreff').fill('Gerät startet stündlich neu');
    await page.getByLabel('Worum geht es?').selectOption('technical');
    await page.getByLabel('Nachricht').fill('Seit dem letzten Firmware-Update.');
    await page.getByRole('button', { name: 'Ticket eröffnen' }).click();
    await page.waitForURL((url) => /^\/tickets\/[0-9a-f-]{36}$/.test(url.pathname));
    const ticketPath = new URL(page.url()).pathname;
    await readsGerman(page, ['Gerät startet stündlich neu', 'Seit dem letzten Firmware-Update.']);

    // staff answer in English; the mail reaches the German reader in German
    const staff = await signInThroughForm(await browser.newPage(), baseUrl, 'support@demo.test');
    await staff.goto(`${baseUrl}/admin${ticketPath}`);
    await expect(staff.locator('html').getAttribute('lang')).resolves.toBe('en');
    await staff.getByLabel('Reply to the customer').fill('Please send us the firmware version.');
    await staff.getByRole('button', { name: 'Send' }).click();
    await staff.locator('#ticket-thread').filter({ hasText: 'Please send us the firmware version.' }).waitFor();

    const mail = await smtp.waitFor(
      (m) => JSON.stringify(m.to ?? '').includes('owner@northwind.test') && (m.subject ?? '').includes('stündlich'),
    );
    expect(mail.subject).toMatch(/^\[Ticket #\d+\] /);
    expect(mail.subject).toContain('Neue Antwort');
    expect(mail.text).toContain('Guten Tag');
    expect(mail.text).toContain('Please send us the firmware version.');
    expect(mail.text).not.toMatch(/\bHello\b|replied to ticket/);

    await page.reload();
    await readsGerman(page, ['Please send us the firmware version.']);
  });
});
