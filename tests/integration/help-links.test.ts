import { describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo/data.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

const { db } = await testDatabase();
await seedDemo(db);
// the demo comes with links: start from a provider that has set none
await db('tenant_help_links').del();
const { app } = testApp({ db });

describe('help links', () => {
  it('shows an empty state until the provider sets links, then only the links set', async () => {
    const customer = await signedInAgent(app, 'owner@northwind.test');
    expect((await customer.agent.get('/help')).text).toContain('has not published any help links yet');

    const admin = await signedInAgent(app, 'admin@demo.test');
    const form = await admin.agent.get('/admin/settings');
    expect(form.status).toBe(200);
    expect(form.text).toContain('Help page links');
    const saved = await admin.agent.post('/admin/settings/help-links').type('form').send({
      _csrf: admin.csrf,
      documentation_url: 'https://docs.demo.test/portal',
      status_page_url: '',
      chat_url: ' https://chat.demo.test ',
      tracking_url: '',
    });
    expect(saved.status).toBe(303);

    const help = await customer.agent.get('/help');
    expect(help.text).toContain('href="https://docs.demo.test/portal"');
    expect(help.text).toContain('href="https://chat.demo.test"');
    expect(help.text).not.toContain('Service status');
    expect(help.text).not.toContain('Tracking platform');
    // a site viewer reaches Help too; another tenant sees none of these links
    expect((await (await signedInAgent(app, 'sites@northwind.test')).agent.get('/help')).text).toContain(
      'docs.demo.test',
    );
    expect((await (await signedInAgent(app, 'admin@other.test')).agent.get('/help')).text).not.toContain(
      'docs.demo.test',
    );
  });

  it('refuses an address that is not http or https, next to its field, and saves nothing', async () => {
    const admin = await signedInAgent(app, 'admin@demo.test');
    const res = await admin.agent.post('/admin/settings/help-links').set('HX-Request', 'true').type('form').send({
      _csrf: admin.csrf,
      documentation_url: 'javascript:alert(1)',
      status_page_url: 'not a url',
      chat_url: '',
      tracking_url: '',
    });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/^<section class="panel settings-section" id="help-links"/);
    expect(res.text).toContain('Only http and https addresses can be linked.');
    expect(res.text).toContain('Enter a full address, starting with https://');
    expect((await (await signedInAgent(app, 'owner@northwind.test')).agent.get('/help')).text).not.toContain(
      'javascript:',
    );
  });

  it('keeps provider settings to tenant admins', async () => {
    const support = await signedInAgent(app, 'support@demo.test');
    expect((await support.agent.get('/admin/settings')).status).toBe(403);
  });
});
