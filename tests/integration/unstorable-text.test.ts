import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';

/**
 * Text PostgreSQL cannot store (NUL, an unpaired UTF-16 surrogate) in any form field, query string
 * or path: refused where it is typed, never a 500 from the database, and nothing written.
 */

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db });
const demo = demoId('tenant:demo');
const ticket = demoId('ticket:no-position');
const admin = await signedInAgent(app, 'admin@demo.test');
const owner = await signedInAgent(app, 'owner@northwind.test');

const count = async (table: string) => Number((await db(table).count({ n: '*' }).first())!.n);
const MESSAGE = 'This holds a character that cannot be stored (a NUL or an unpaired surrogate), shown here as �.';
const fieldError = (html: string, name: string) => new RegExp(`id="f-${name}-error">([^<]*)<`).exec(html)?.[1];

describe('a form field holding a NUL or an unpaired surrogate', () => {
  it(
    're-renders the new customer form with the message next to the ' + 'field and the value kept, and writes nothing',
    async () => {
      const before = await count('customers');
      const res = await admin.agent.post('/admin/customers').type('form').send({
        _csrf: admin.csrf,
        title: 'Fjord\u0000Freight',
        account_id: 'FF-1',
        // a form cannot carry an unpaired surrogate (encoding it as UTF-8 turns it into U+FFFD): JSON can, below
        contact_name: 'Frida\u0000',
        status: 'active',
        home_page: 'assets',
      });
      expect(res.status).toBe(422);
      expect(fieldError(res.text, 'title')).toBe(MESSAGE);
      expect(fieldError(res.text, 'contact_name')).toBe(MESSAGE);
      expect(fieldError(res.text, 'account_id')).toBeUndefined();
      expect(res.text).toContain('value="Fjord�Freight"');
      expect(await count('customers')).toBe(before);
    },
  );

  it('answers an htmx comment with the form fragment and the message, and adds no comment', async () => {
    const before = await count('ticket_entries');
    const res = await owner.agent
      .post(`/tickets/${ticket}/comments`)
      .set({ 'HX-Request': 'true', 'X-CSRF-Token': owner.csrf })
      .type('form')
      .send({ body: 'Still no position \u0000 since Monday' });
    expect(res.status).toBe(422);
    expect(res.text).not.toMatch(/<html/);
    expect(res.text).toContain(MESSAGE);
    expect(await count('ticket_entries')).toBe(before);
  });

  it('refuses it in a JSON body too, and at sign-in, without counting a failed sign-in', async () => {
    const agent = supertest.agent(app);
    const csrf = csrfFrom((await agent.get('/login')).text);
    const failures = await count('rate_limits');
    const res = await agent
      .post('/login')
      .send({ _csrf: csrf, email: 'admin@demo.test\u0000', password: ['portico-demo', { x: '\udfff' }] });
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'email')).toBe(MESSAGE);
    expect(await count('rate_limits')).toBe(failures);
  });
});

describe('a query string or path holding a NUL', () => {
  it('answers a list asked with one in its search 400, as a page', async () => {
    const res = await owner.agent.get('/assets?q=35%00');
    expect(res.status).toBe(400);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('Bad request');
  });

  it('answers a record asked with one in its address 404', async () => {
    expect((await owner.agent.get('/assets/by-identifier/35%00')).status).toBe(404);
    expect((await admin.agent.get(`/admin/customers/${demo}%00`)).status).toBe(404);
  });

  it('answers an API query with one 400 in JSON', async () => {
    const res = await supertest(app).get('/api/v1/invoices?status=paid%00').set('Authorization', 'Bearer x');
    expect([res.status, res.type]).toEqual([400, 'application/json']);
  });
});
