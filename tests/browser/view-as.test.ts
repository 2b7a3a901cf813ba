import { describe, expect, it } from 'vitest';
import { demoId } from '../../src/demo/data.js';
import { demoJourney, expectUniqueIds, signInThroughForm } from '../support/browser.js';

/**
 * Issue 21's "view as" journey: support views Northwind as its company admin, sees the banner, is refused a
 * change (403), ends the view, and the customer's audit log shows its start and end under support's name.
 */

// the session rows expire by the real clock, so the app's clock is today's
const { db, baseUrl, browser } = await demoJourney(new Date());
const northwind = demoId('customer:northwind');
const owner = (await db('users').where({ email: 'owner@northwind.test' }).first('id', 'name')) as {
  id: string;
  name: string;
};
const support = (await db('users').where({ email: 'support@demo.test' }).first('name')) as { name: string };

describe('support views as a customer user', () => {
  it('sees the person’s pages under a banner, cannot change anything, ends it, and the audit log has it', async () => {
    const page = await signInThroughForm(await browser.newPage(), baseUrl, 'support@demo.test');
    await page.goto(`${baseUrl}/admin/customers/${northwind}`);
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('link', { name: owner.name }).click();
    await page.waitForURL(`${baseUrl}/admin/customers/${northwind}/users/${owner.id}`);
    // support reads the user's page, and changes nothing on it
    await expect(page.getByRole('link', { name: 'Edit user' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'View as' }).click();

    const banner = page.getByRole('region', { name: 'View as' });
    await banner.getByText(`Viewing as ${owner.name}`).waitFor();
    await expectUniqueIds(page);
    // the person's pages, each with the banner
    await page.goto(`${baseUrl}/settings`);
    await banner.getByText(`Viewing as ${owner.name}`).waitFor();
    await expect(page.getByText(`${support.name} (staff) viewing as you`).count()).resolves.toBe(1);

    // a change is refused: the person's profile form answers 403 and says why
    const answer = page.waitForResponse((r) => r.url() === `${baseUrl}/settings/profile`);
    await page.locator('form[action="/settings/profile"]').getByRole('button').first().click();
    expect((await answer).status()).toBe(403);
    await page.getByText('You are viewing as someone else').first().waitFor();

    // End, from the banner: back on the person's staff page as support
    await page.getByRole('region', { name: 'View as' }).getByRole('button', { name: 'End' }).click();
    await page.waitForURL(`${baseUrl}/admin/customers/${northwind}/users/${owner.id}`);
    await expect(page.getByText('Viewing as').count()).resolves.toBe(0);

    // a tenant admin reads both in the customer's audit log, under support's name
    const admin = await signInThroughForm(await browser.newPage(), baseUrl, 'admin@demo.test');
    await admin.goto(`${baseUrl}/admin/customers/${northwind}/audit`);
    for (const action of ['user.view_as_started', 'user.view_as_ended']) {
      const row = admin.getByRole('row').filter({ hasText: action });
      await expect(row.count()).resolves.toBe(1);
      await expect(row.textContent()).resolves.toContain(support.name);
    }
  });
});
