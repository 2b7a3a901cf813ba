import pino from 'pino';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { unsubscribeUrl } from '../../src/services/mail/notifications.js';
import { csrfFrom, signedInAgent, testContext } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeSite, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';

/**
 * Request logs never hold a token: every journey that issues one runs here, with the app's log
 * captured, and the log is searched for every token issued.
 */

const { db } = await testDatabase();
const lines: string[] = [];
const ctx = { ...testContext({ db }), logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }) };
const app = createApp(ctx);

const tenant = await makeTenant(db);
const customer = await makeCustomer(db, tenant.id, { title: 'Northwind' });
const admin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
const staff = await signedInAgent(app, admin.email, TEST_PASSWORD);
const issued: Record<string, string> = {};

/** The token in the newest kept message to `email` (no SMTP here: mail is kept in the outbox). */
async function tokenMailedTo(email: string, path: string): Promise<string> {
  await ctx.mailPump.idle();
  const { body_text: text } = await db('outbox').where({ recipient: email }).orderBy('id', 'desc').first('body_text');
  return new RegExp(`${path}/([A-Za-z0-9_-]{20,})`).exec(text as string)![1]!;
}

async function openAndPost(path: string, fields: Record<string, string> = {}) {
  const visitor = supertest.agent(app);
  const page = await visitor.get(path);
  expect(page.status).toBe(200);
  const csrf = csrfFrom(page.text);
  return visitor
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: csrf });
}

describe('request logs', () => {
  it('hold none of the tokens that links carry, across every journey that issues one', async () => {
    // activation by mailed link, and by a link shown to staff
    const mailed = 'mailed.person@northwind.test';
    await staff.agent
      .post(`/admin/customers/${customer.id}/users`)
      .type('form')
      .send({ name: 'Mailed Person', email: mailed, role: 'company_admin', activation: 'email', _csrf: staff.csrf });
    issued.activation = await tokenMailedTo(mailed, '/activate');
    const password = 'a long enough passphrase here';
    expect((await openAndPost(`/activate/${issued.activation}`, { password, passwordConfirm: password })).status).toBe(
      303,
    );
    const shown = await makeUser(
      db,
      { tenantId: tenant.id, role: 'company_admin', customerId: customer.id },
      { status: 'pending', password_hash: null },
    );
    const page = await staff.agent
      .post(`/admin/customers/${customer.id}/users/${shown.id}/activation-link`)
      .type('form')
      .send({ _csrf: staff.csrf });
    issued.shownActivation = /\/activate\/([A-Za-z0-9_-]{43})/.exec(page.text)![1]!;
    expect((await supertest(app).get(`/activate/${issued.shownActivation}`)).status).toBe(200);

    // a forgotten password
    const forgetful = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
    expect((await openAndPost('/password/forgot', { email: forgetful.email })).status).toBe(200);
    issued.reset = await tokenMailedTo(forgetful.email, '/password/reset');
    expect((await openAndPost(`/password/reset/${issued.reset}`, { password, passwordConfirm: password })).status).toBe(
      303,
    );

    // a login link
    const viewer = await makeUser(db, { tenantId: tenant.id, role: 'site_viewer', customerId: customer.id });
    const site = await makeSite(db, tenant.id, { customerId: customer.id });
    await db('membership_sites').insert({ tenant_id: tenant.id, membership_id: viewer.membershipId, site_id: site.id });
    const enabled = await staff.agent
      .post(`/admin/customers/${customer.id}/users/${viewer.id}/login-link`)
      .type('form')
      .send({ _csrf: staff.csrf });
    issued.loginLink = /\/link\/([A-Za-z0-9_-]{43})/.exec(enabled.text)![1]!;
    expect((await supertest(app).get(`/link/${issued.loginLink}`)).status).toBe(303);

    // an email confirmation link
    const person = await makeUser(db, { tenantId: tenant.id, role: 'company_admin', customerId: customer.id });
    const them = await signedInAgent(app, person.email, TEST_PASSWORD);
    await them.agent.post('/settings/email-verification').type('form').send({ _csrf: them.csrf });
    issued.emailVerification = await tokenMailedTo(person.email, '/settings/email-verification');
    expect((await openAndPost(`/settings/email-verification/${issued.emailVerification}`)).status).toBe(200);

    // an unsubscribe link, as a notification mail carries it
    const links = { baseUrl: ctx.config.baseUrl, secret: ctx.config.sessionSecret };
    const unsubscribe = new URL(unsubscribeUrl(links, person.id, 'ticket_updates')).pathname;
    issued.unsubscribe = unsubscribe.split('/').at(-1)!;
    expect((await openAndPost(unsubscribe)).status).toBe(200);

    const log = lines.join('');
    // the requests were logged, with their paths
    for (const path of ['/activate/', '/password/reset/', '/link/', '/settings/email-verification/', '/unsubscribe/'])
      expect(log).toContain(`"url":"${path}`);
    for (const [journey, token] of Object.entries(issued)) expect(log.includes(token), journey).toBe(false);
  });

  it('hold no token that a query string carries either', async () => {
    const token = 'Q'.repeat(43);
    await supertest(app).get(`/login?next=${encodeURIComponent(`/password/reset/${token}`)}`);
    await supertest(app).get(`/unsubscribe/${token}?again=${token}`);
    const log = lines.join('');
    expect(log).toContain('"url":"/login?next=');
    expect(log.includes(token)).toBe(false);
  });
});
