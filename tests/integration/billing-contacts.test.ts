import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db });
const northwind = demoId('customer:northwind');
const contacts = `/admin/customers/${northwind}/billing/contacts`;
const admin = await signedInAgent(app, 'admin@demo.test');
const post = (path: string, fields: Record<string, string>) =>
  admin.agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: admin.csrf });
const userByEmail = (email: string) =>
  db('users')
    .where({ email })
    .first('id', 'status', 'must_change_password', 'password_hash', 'email_verified', 'mobile', 'mobile_verified');

async function signIn(email: string, password: string) {
  const agent = supertest.agent(app);
  const page = await agent.get('/login');
  const res = await agent
    .post('/login')
    .type('form')
    .send({ email, password, _csrf: csrfFrom(page.text) });
  return { agent, res };
}

describe('contacts of a telecom account', () => {
  it('adds a contact with a password staff typed, who must replace it before reaching anything', async () => {
    const res = await post(contacts, {
      name: 'Tom Typed',
      email: 'tom@northwind.test',
      role: 'company_admin',
      passwordMode: 'set',
      password: 'a handover secret 42',
      mobile: '+44 7700 900555',
      mobileVerified: 'on',
      publicNotes: 'Call Tom for billing questions.',
      privateNotes: 'Tom is new',
    });
    expect(res.status).toBe(303);
    const user = await userByEmail('tom@northwind.test');
    expect(user).toMatchObject({
      status: 'active',
      must_change_password: true,
      mobile: '+44 7700 900555',
      mobile_verified: true,
      email_verified: false,
    });
    expect(await db('outbox').where({ recipient: 'tom@northwind.test' }).first()).toBeUndefined();

    const { agent, res: signedIn } = await signIn('tom@northwind.test', 'a handover secret 42');
    expect(signedIn.status).toBe(303);
    expect((await agent.get('/billing')).headers.location).toBe('/password/new');
    expect((await agent.get('/assets').set('HX-Request', 'true')).headers['hx-redirect']).toBe('/password/new');
    const form = await agent.get('/password/new');
    expect(form.status).toBe(200);
    const same = await agent
      .post('/password/new')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), password: 'a handover secret 42', passwordConfirm: 'a handover secret 42' });
    expect(same.status).toBe(422);
    const done = await agent
      .post('/password/new')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), password: 'my very own password', passwordConfirm: 'my very own password' });
    expect(done.status).toBe(303);
    expect((await userByEmail('tom@northwind.test'))!.must_change_password).toBe(false);
    const billing = await agent.get('/billing');
    expect(billing.status).toBe(200);
    expect(billing.text).toContain('Call Tom for billing questions.');
    expect(billing.text).not.toContain('Tom is new');
  });

  it('keeps the password out of the audit log, and refuses a weak typed password next to the field', async () => {
    const weak = await post(contacts, {
      name: 'Wanda Weak',
      email: 'wanda@northwind.test',
      role: 'company_admin',
      passwordMode: 'set',
      password: 'short',
    });
    expect(weak.status).toBe(422);
    expect(weak.text).toContain('id="f-password-error"');
    expect(await userByEmail('wanda@northwind.test')).toBeUndefined();
    const entries = await db('audit_log').where({ action: 'user.created', customer_id: northwind }).select('after');
    expect(JSON.stringify(entries)).not.toContain('a handover secret 42');
  });

  it('resets a contact’s password by generating and mailing one, ending their sessions', async () => {
    const owner = await signedInAgent(app, 'owner@northwind.test');
    const ownerId = demoId('user:owner@northwind.test');
    const page = await admin.agent.get(`${contacts}/${ownerId}/password`);
    expect(page.status).toBe(200);
    const res = await post(`${contacts}/${ownerId}/password`, { passwordMode: 'generate' });
    expect(res.status).toBe(303);
    const mail = await db('outbox')
      .where({ recipient: 'owner@northwind.test', kind: 'contact_password_reset' })
      .first('body_text');
    const password = /password:\s+(\S+)/.exec(mail.body_text)![1]!;
    // the old session is gone
    expect((await owner.agent.get('/billing')).headers.location).toMatch(/^\/login/);
    expect((await signIn('owner@northwind.test', 'portico-demo')).res.status).toBe(422);
    const { agent, res: signedIn } = await signIn('owner@northwind.test', password);
    expect(signedIn.status).toBe(303);
    expect((await agent.get('/')).headers.location).toBe('/password/new');
  });

  it('lets staff set the verified flags and notes of an existing contact', async () => {
    const fleetId = demoId('user:fleet@northwind.test');
    const res = await post(`${contacts}/${fleetId}`, {
      name: 'Finn Fleet',
      mobile: '',
      emailVerified: 'on',
      mobileVerified: 'on',
      publicNotes: 'New public',
      privateNotes: 'New private',
    });
    expect(res.status).toBe(303);
    const user = await db('users').where({ id: fleetId }).first('email_verified', 'mobile_verified');
    // no mobile number, so it cannot be verified
    expect(user).toEqual({ email_verified: true, mobile_verified: false });
    const entry = await db('audit_log')
      .where({ action: 'contact.updated', entity_id: fleetId })
      .orderBy('id', 'desc')
      .first('before', 'after');
    expect(entry.after).toMatchObject({ publicNotes: 'New public', privateNotes: 'New private', emailVerified: true });
  });
});
