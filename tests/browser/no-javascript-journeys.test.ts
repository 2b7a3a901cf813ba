import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { demoId } from '../../src/demo/data.js';
import { demoJourney, signInThroughForm } from '../support/browser.js';

// A customer's journeys in a browser that runs no script, reaching what the JavaScript journeys reach
// (asset-actions, groups, tickets and bulk-actions.test.ts): plain links and forms only.
const NOW = new Date('2026-11-24T09:00:00Z');
const { db, baseUrl, browser } = await demoJourney(NOW);
const northwind = demoId('customer:northwind');

const signIn = async (email: string): Promise<Page> =>
  signInThroughForm(await browser.newPage({ javaScript: false }), baseUrl, email);
const alerts = (page: Page) => page.locator('#alerts').textContent();

describe('a company admin whose browser runs no JavaScript', () => {
  it('requests the deactivation of an asset from its page, and cancels it again', async () => {
    const asset = (await db('assets')
      .where({ customer_id: northwind, status: 'active', plan: 'yearly', renewal_unconfirmed: false })
      .orderBy('identifier')
      .first('id', 'name'))! as { id: string; name: string };
    const page = await signIn('owner@northwind.test');
    await page.goto(`${baseUrl}/assets/${asset.id}`);
    await page.getByRole('link', { name: 'Request deactivation' }).click();
    await page.waitForURL(`${baseUrl}/assets/${asset.id}/deactivation-request`);
    await page.getByRole('button', { name: /^Confirm deactivation on / }).click();
    await page.waitForURL(`${baseUrl}/assets/${asset.id}`);
    await expect(alerts(page)).resolves.toContain('Deactivation requested: it takes effect on');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Deactivation pending');

    await page.getByRole('button', { name: 'Cancel deactivation' }).click();
    await page.waitForURL(`${baseUrl}/assets/${asset.id}`);
    await page.getByRole('button', { name: 'Cancel deactivation' }).waitFor({ state: 'detached' });
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.not.toContain('Deactivation pending');
    await page.getByRole('link', { name: 'Request deactivation' }).waitFor();
  });

  it('creates a group on its own page and assigns a user with the plain list of users', async () => {
    const page = await signIn('owner@northwind.test');
    await page.goto(`${baseUrl}/groups`);
    // without a script the link goes to the form's own page instead of opening a dialog
    await page.getByRole('link', { name: 'Create group' }).click();
    await page.waitForURL(`${baseUrl}/groups/new`);
    await page.getByLabel('Name').fill('Tankers');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.waitForURL(/\/groups\/[0-9a-f-]{36}$/);
    await expect(alerts(page)).resolves.toContain('Group Tankers created.');
    const groupUrl = page.url();

    // the type-ahead needs a script: the form offers every user in a list to choose from instead
    await expect(page.getByLabel('Add a user').isVisible()).resolves.toBe(false);
    await page.getByLabel('Users of this group').selectOption(demoId('membership:fleet@northwind.test'));
    await page.getByRole('button', { name: 'Submit' }).click();
    await page.waitForURL(groupUrl);
    await page.locator('#alerts').getByText('Users of the group saved. Added Finn Fleet.').waitFor();
    const groupId = groupUrl.split('/').pop()!;
    expect(await db('membership_groups').where({ group_id: groupId }).select('membership_id')).toEqual([
      { membership_id: demoId('membership:fleet@northwind.test') },
    ]);
    await expect(
      page
        .getByLabel('Users of this group')
        .evaluate((s: HTMLSelectElement) => Array.from(s.selectedOptions, (o) => o.text)),
    ).resolves.toEqual([expect.stringContaining('Finn Fleet')]);
  });

  it('ticks an asset, previews a bulk move, confirms it, and downloads the results', async () => {
    const vans = (await db('assets')
      .where({ customer_id: northwind, group_id: demoId('group:vans') })
      .orderBy('identifier')
      .limit(1)
      .select('id', 'identifier')) as { id: string; identifier: string }[];
    const page = await signIn('owner@northwind.test');
    await page.goto(`${baseUrl}/assets?q=${encodeURIComponent(vans[0]!.identifier)}`);
    await page.locator(`#pick-${vans[0]!.id}`).check();
    await page.getByLabel('Action').selectOption('move');
    await page.getByLabel('Group (for a move)').selectOption(demoId('group:trucks-north'));
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.waitForURL(/\/assets\/bulk\/[0-9a-f-]{36}$/);
    await expect(page.locator('main [role="status"]').first().textContent()).resolves.toContain('will be moved');

    await page.getByRole('button', { name: 'Confirm for 1 asset' }).click();
    await page.waitForURL(/\/assets\/bulk\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { level: 1, name: /^Bulk action done/ }).waitFor();
    const moved = await db('assets').where({ id: vans[0]!.id }).first('group_id');
    expect(moved).toEqual({ group_id: demoId('group:trucks-north') });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the results (CSV)' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^assets-move-.*\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv).toContain(vans[0]!.identifier);
  });
});

describe('a customer with tickets whose browser runs no JavaScript', () => {
  it('opens a ticket about an asset, comments on it, and comments from the ticket list', async () => {
    const truck = (await db('assets')
      .where({ group_id: demoId('group:trucks'), status: 'active' })
      .orderBy('identifier')
      .first('id'))! as { id: string };
    const page = await signIn('owner@northwind.test');
    await page.goto(`${baseUrl}/assets/${truck.id}`);
    await page.getByRole('link', { name: 'Open a ticket about this asset' }).click();
    await page.waitForURL((url) => url.pathname === '/tickets/new');
    await page.getByLabel('Subject').fill('Lamp flickers after dark');
    await page.getByLabel('What is it about?').selectOption('technical');
    await page.getByLabel('Message').fill('Only on the night shift.');
    await page.getByRole('button', { name: 'Open ticket' }).click();
    await page.waitForURL((url) => /^\/tickets\/[0-9a-f-]{36}$/.test(url.pathname));
    const ticketUrl = page.url();
    await expect(alerts(page)).resolves.toContain('is open');

    // the comment form posts as a plain form and comes back to the ticket with its message
    await page.getByLabel('Add a comment').fill('It started after the battery swap.');
    await page.getByRole('button', { name: 'Add comment' }).click();
    await page.waitForURL(ticketUrl);
    await page.locator('#alerts').getByText('Your comment has been added.').waitFor();
    await expect(page.locator('.ticket-comment').last().textContent()).resolves.toContain(
      'It started after the battery swap.',
    );

    // the list's quick comment form comes back to the list
    await page.goto(`${baseUrl}/tickets`);
    // a disclosure, which opens without a script too
    const row = page.locator('#ticket-list tbody tr').filter({ hasText: 'Lamp flickers after dark' });
    await row.locator('summary').click();
    const box = page.getByLabel(/^Comment on #\d+ Lamp flickers after dark$/);
    await box.fill('And again last night.');
    await page.locator('form.quick-comment').filter({ has: box }).getByRole('button', { name: 'Add comment' }).click();
    await page.waitForURL(`${baseUrl}/tickets`);
    await page
      .locator('#alerts')
      .getByText(/Your comment on #\d+ has been added\./)
      .waitFor();
    await page.goto(ticketUrl);
    await expect(page.locator('.ticket-comment').last().textContent()).resolves.toContain('And again last night.');
  });
});
