import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { testApp } from '../support/app.js';
import { expectUniqueIds, serve, signInThroughForm, useBrowser } from '../support/browser.js';
import { testDatabase } from '../support/db.js';
import { startSmtpCatcher } from '../support/smtp.js';

const { db } = await testDatabase();
await seedDemo(db);
const smtp = await startSmtpCatcher();
afterAll(() => smtp.close());
const { app } = testApp({ db, smtpUrl: smtp.url });
const { baseUrl } = await serve(app);
const browser = useBrowser();
const truck = (await db('assets')
  .where({ group_id: demoId('group:trucks'), status: 'active' })
  .orderBy('identifier')
  .first('id', 'name', 'identifier')) as { id: string; name: string; identifier: string };

const signIn = async (email: string): Promise<Page> => signInThroughForm(await browser.newPage(), baseUrl, email);
const to = (m: { to?: unknown }) => JSON.stringify(m.to ?? '');

describe('a ticket about an asset', () => {
  it(
    'is opened by the customer from the asset page, answered by staff, ' +
      'and the customer sees the reply and gets the mail',
    async () => {
      const customer = await signIn('owner@northwind.test');
      await customer.goto(`${baseUrl}/assets/${truck.id}`);
      await customer.getByRole('link', { name: 'Open a ticket about this asset' }).click();
      await customer.waitForURL((url) => url.pathname === '/tickets/new');
      await customer.getByLabel('Subject').fill('Unit reboots every hour');
      await customer.getByLabel('What is it about?').selectOption('technical');
      await customer.getByLabel('Message').fill('Since the last firmware update.');
      await customer.getByRole('button', { name: 'Open ticket' }).click();
      await customer.waitForURL((url) => /^\/tickets\/[0-9a-f-]{36}$/.test(url.pathname));
      const ticketPath = new URL(customer.url()).pathname;
      await expect(customer.locator('#alerts').textContent()).resolves.toContain('is open');

      const staff = await signIn('support@demo.test');
      await staff.getByRole('link', { name: 'Tickets' }).click();
      await staff.waitForURL(`${baseUrl}/admin/tickets`);
      await staff.getByRole('link', { name: /Unit reboots every hour/ }).click();
      await staff.waitForURL(`${baseUrl}/admin${ticketPath}`);
      await staff.getByLabel('Reply to the customer').fill('Please send us the firmware version shown in the app.');
      await staff.getByLabel('Status').selectOption('waiting_on_customer');
      await staff.getByRole('button', { name: 'Send' }).click();
      const thread = staff.locator('#ticket-thread');
      await thread.filter({ hasText: 'Please send us the firmware version' }).waitFor();
      await expect(thread.textContent()).resolves.toContain('Please send us the firmware version');
      await expectUniqueIds(staff);

      await customer.reload();
      await expect(customer.locator('#ticket-thread').textContent()).resolves.toContain(
        'Please send us the firmware version shown in the app.',
      );
      await expect(customer.locator('#ticket-thread').textContent()).resolves.toContain('to Waiting on customer');
      await expect(customer.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Waiting on customer');

      const mail = await smtp.waitFor(
        (m) => to(m).includes('owner@northwind.test') && (m.subject ?? '').includes('Unit reboots every hour'),
      );
      expect(mail.subject).toContain('New reply, now Waiting on customer');
      expect(mail.text).toContain('Please send us the firmware version shown in the app.');
      expect(mail.text).toContain(ticketPath);
    },
  );

  it('shows a comment added with htmx at once, and still after a reload', async () => {
    const page = await signIn('fleet@northwind.test');
    await page.goto(`${baseUrl}/tickets/${demoId('ticket:no-position')}`);
    const before = await page.locator('.ticket-comment').count();
    await page.getByLabel('Add a comment').fill('The fuse is replaced again, still no light.');
    await page.getByRole('button', { name: 'Add comment' }).click();
    await page.locator('.ticket-comment').nth(before).waitFor();
    await expect(page.locator('.ticket-comment').count()).resolves.toBe(before + 1);
    await expectUniqueIds(page);
    // swapped in place: no page load (a plain form would come back with its flash message), the box is empty again
    await expect(page.locator('#alerts').textContent()).resolves.not.toContain('Your comment has been added');
    expect(new URL(page.url()).pathname).toBe(`/tickets/${demoId('ticket:no-position')}`);
    await expect(page.getByLabel('Add a comment').inputValue()).resolves.toBe('');
    await expect(page.locator('.ticket-comment').last().textContent()).resolves.toContain('The fuse is replaced again');
    await page.reload();
    await expect(page.locator('.ticket-comment').last().textContent()).resolves.toContain(
      'The fuse is replaced again, still no light.',
    );
  });
});
