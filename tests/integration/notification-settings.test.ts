import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { unsubscribeToken } from '../../src/services/mail/notifications.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { decode } from '../support/forms.js';

const { db } = await testDatabase();
const { app, ctx } = testApp({ db });
const secret = ctx.config.sessionSecret;
const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Acme Freight' });
const companyAdmin = (fields: Parameters<typeof makeUser>[2] = {}) =>
  makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id }, fields);
const link = (userId: string, kind: 'renewal_reminders' | 'ticket_updates' = 'renewal_reminders') =>
  `/unsubscribe/${unsubscribeToken(secret, userId, kind)}`;
const setting = async (userId: string) =>
  (await db('notification_settings').where({ user_id: userId, kind: 'renewal_reminders' }).first('enabled'))?.enabled ??
  true;

/** The notifications form as a person leaves it: the ticked boxes are sent, the others are not. */
async function saveSwitches(email: string, ticked: string[]) {
  const { agent, csrf } = await signedInAgent(app, email, TEST_PASSWORD);
  const form: Record<string, string> = { _csrf: csrf };
  for (const k of ticked) form[k] = 'on';
  return { agent, res: await agent.post('/settings/notifications').type('form').send(form) };
}

// Ann is Acme's first company admin; Ben joins later; Dan was one, but is disabled, so he does not count
const ann = await companyAdmin({ name: 'Ann Admin' });
await companyAdmin({ name: 'Dan Disabled', status: 'disabled' });
// Eve is one too, but Acme disabled her membership: she hears nothing of Acme any more, so she does not count
const eve = await companyAdmin({ name: 'Eve Elsewhere' });
await db('memberships').where({ id: eve.membershipId }).update({ disabled_at: new Date() });

describe('notification switches on the settings page', () => {
  it('shows a company admin the kinds of mail they get, switched on', async () => {
    const { agent } = await signedInAgent(app, ann.email, TEST_PASSWORD);
    const page = await agent.get('/settings');
    expect(page.text).toContain('Email notifications');
    expect(page.text).toMatch(
      /<input type="checkbox" id="f-renewal_reminders" name="renewal_reminders" value="on" checked/,
    );
    expect(page.text).toMatch(/<input type="checkbox" id="f-ticket_updates" name="ticket_updates" value="on" checked/);
    expect(page.text).toContain('<label for="f-renewal_reminders">Renewal reminders</label>');
    // the scheduled reports (DESIGN section 10): a company admin is their customer's billing contact
    expect(page.text).toContain('<label for="f-weekly_digest">Weekly fleet digest</label>');
    expect(page.text).toContain('<label for="f-monthly_statement">Monthly statement</label>');
    expect(page.text).toMatch(/<input type="checkbox" id="f-weekly_digest" name="weekly_digest" value="on" checked/);
  });

  it('offers a group admin the weekly fleet digest but not the monthly statement, and saves the switch', async () => {
    const fay = await makeUser(db, { tenantId: tenant.id, role: 'group_admin', customerId: customer.id });
    const { agent } = await signedInAgent(app, fay.email, TEST_PASSWORD);
    const page = await agent.get('/settings');
    expect(page.text).toContain('<label for="f-weekly_digest">Weekly fleet digest</label>');
    expect(page.text).not.toContain('Monthly statement');
    const { res } = await saveSwitches(fay.email, ['renewal_reminders', 'ticket_updates']);
    expect(res.status).toBe(303);
    expect(await db('notification_settings').where({ user_id: fay.id }).select('kind', 'enabled')).toEqual([
      { kind: 'weekly_digest', enabled: false },
    ]);
  });

  it(
    'keeps renewal reminders on for the only company admin who receives them, ' + 'and says why next to the switch',
    async () => {
      const { res } = await saveSwitches(ann.email, ['ticket_updates']);
      expect(res.status).toBe(422);
      const html = decode(res.text);
      expect(html).toContain('You are the only company admin of Acme Freight who receives renewal reminders');
      expect(html).toMatch(
        new RegExp(
          'id="f-renewal_reminders" name="renewal_reminders" value="on" ' +
            'aria-describedby="f-renewal_reminders-hint f-renewal_reminders-error" aria-invalid="true"',
        ),
      );
      expect(await setting(ann.id)).toBe(true);
    },
  );

  it(
    'lets a company admin turn them off while another active company admin receives them, ' +
      'and not the other one after',
    async () => {
      const ben = await companyAdmin({ name: 'Ben Admin' });
      const { agent, res } = await saveSwitches(ann.email, ['ticket_updates']);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/settings#notifications');
      const page = await agent.get('/settings');
      expect(page.text).toContain('Your notification choices have been saved.');
      expect(page.text).toMatch(/name="renewal_reminders" value="on" aria-describedby/); // unchecked now
      expect(await setting(ann.id)).toBe(false);
      const entry = await db('audit_log')
        .where({ tenant_id: tenant.id, entity_id: ann.id, action: 'user.notifications_changed' })
        .first('before', 'after');
      expect(entry).toMatchObject({ before: { renewal_reminders: true }, after: { renewal_reminders: false } });

      const refused = await saveSwitches(ben.email, []);
      expect(refused.res.status).toBe(422);
      expect(await setting(ben.id)).toBe(true);

      // Ann takes them back, and then Ben may stop his
      expect((await saveSwitches(ann.email, ['renewal_reminders', 'ticket_updates'])).res.status).toBe(303);
      expect((await saveSwitches(ben.email, ['ticket_updates'])).res.status).toBe(303);
      expect(await setting(ben.id)).toBe(false);
      expect(await setting(ann.id)).toBe(true);
    },
  );

  it('lets a group admin turn renewal reminders off freely', async () => {
    const fleet = await makeUser(db, { tenantId: tenant.id, role: 'group_admin', customerId: customer.id });
    expect((await saveSwitches(fleet.email, [])).res.status).toBe(303);
    expect(await setting(fleet.id)).toBe(false);
  });

  it('shows a partner viewer that no notification mail applies to them', async () => {
    const partner = await db('partners').insert({ tenant_id: tenant.id, name: 'Resell Co' }).returning('id');
    const viewer = await makeUser(db, {
      tenantId: tenant.id,
      role: 'partner_viewer',
      partnerId: (partner[0] as { id: string }).id,
    });
    const { agent } = await signedInAgent(app, viewer.email, TEST_PASSWORD);
    expect((await agent.get('/settings')).text).toContain('No notification mail applies to your role.');
  });
});

describe('the unsubscribe link in a mail', () => {
  it('asks before it changes anything, without signing in', async () => {
    const gus = await makeUser(
      db,
      { tenantId: tenant.id, role: 'group_admin', customerId: customer.id },
      { email: 'gus@acme.test' },
    );
    const page = await supertest(app).get(link(gus.id));
    expect(page.status).toBe(200);
    expect(page.text).toContain('Stop renewal reminders?');
    expect(page.text).toContain('gus@acme.test');
    expect(page.text).toContain(`<form method="post" action="${link(gus.id)}"`);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(await setting(gus.id)).toBe(true);
  });

  it('turns the kind off in one click, with no session and no CSRF token, as mail programs post it', async () => {
    const hal = await makeUser(
      db,
      { tenantId: tenant.id, role: 'group_supervisor', customerId: customer.id },
      { email: 'hal@acme.test' },
    );
    const res = await supertest(app).post(link(hal.id)).type('form').send('List-Unsubscribe=One-Click');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Renewal reminders stopped');
    expect(res.text).toContain('hal@acme.test');
    expect(await setting(hal.id)).toBe(false);
    const again = await supertest(app).post(link(hal.id)).type('form').send('List-Unsubscribe=One-Click');
    expect(again.status).toBe(200);
    const page = await supertest(app).get(link(hal.id));
    expect(page.text).toContain('Renewal reminders are already off for');
    const entry = await db('audit_log')
      .where({ tenant_id: tenant.id, entity_id: hal.id, action: 'user.notifications_changed' })
      .first('actor_label');
    expect(entry).toMatchObject({ actor_label: 'Unsubscribe link in a mail' });
  });

  it('refuses the last company admin who receives renewal reminders, and says why', async () => {
    const solo = await makeCustomer(db, tenant.id, { title: 'Solo Logistics' });
    const only = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: solo.id });
    const res = await supertest(app).post(link(only.id)).type('form').send('List-Unsubscribe=One-Click');
    expect(res.status).toBe(409);
    expect(decode(res.text)).toContain(
      'You are the only company admin of Solo Logistics who receives renewal reminders',
    );
    expect(await setting(only.id)).toBe(true);
  });

  it('answers 404 to a link that was altered or made up', async () => {
    const token = unsubscribeToken(secret, ann.id, 'renewal_reminders');
    const altered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const path of [
      `/unsubscribe/${altered}`,
      `/unsubscribe/${'x'.repeat(43)}`,
      `/unsubscribe/${unsubscribeToken('another-secret-that-is-long-enough!!', ann.id, 'renewal_reminders')}`,
    ]) {
      expect((await supertest(app).get(path)).status).toBe(404);
      expect((await supertest(app).post(path)).status).toBe(404);
    }
    expect(await setting(ann.id)).toBe(true);
  });
});
