import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeUser } from '../support/factories.js';

const { db } = await testDatabase();
await seedDemo(db, { now: new Date('2026-11-24T09:00:00Z') });
const { app } = testApp({ db, clock: fixedClock('2026-11-24T09:00:00Z') });
const tenantId = demoId('tenant:demo');
const northwind = demoId('customer:northwind');
const truck = (await db('assets')
  .where({ tenant_id: tenantId, group_id: demoId('group:trucks') })
  .orderBy('identifier')
  .first('id', 'identifier')) as { id: string; identifier: string };
// a Northwind asset outside Trucks: the Trucks group admin does not reach it
const other = (await db('assets')
  .where({ tenant_id: tenantId, group_id: demoId('group:vans') })
  .orderBy('identifier')
  .first('id')) as { id: string };

async function openAs(email: string, assetId: string, subject: string) {
  const { agent, csrf } = await signedInAgent(app, email);
  const res = await agent
    .post('/tickets')
    .type('form')
    .send({ _csrf: csrf, asset_id: assetId, subject, category: 'technical', message: 'No position since Monday.' });
  expect(res.status).toBe(303);
  return { agent, csrf, id: String(res.headers.location).split('/').pop()! };
}

const ticketMail = () =>
  db('outbox')
    .where({ tenant_id: tenantId, kind: 'ticket_update' })
    .orderBy('id')
    .select('recipient', 'subject', 'body_text', 'headers');

describe('opening a ticket', () => {
  it('opens a ticket about an asset from its page and lists it there and among the tickets', async () => {
    const owner = await signedInAgent(app, 'owner@northwind.test');
    const assetPage = await owner.agent.get(`/assets/${truck.id}`);
    expect(assetPage.text).toContain(`<a href="/tickets/new?asset=${truck.id}">Open a ticket about this asset</a>`);
    const form = await owner.agent.get(`/tickets/new?asset=${truck.id}`);
    expect(form.text).toContain(`<input type="hidden" name="asset_id" value="${truck.id}">`);
    const { agent, id } = await openAs('owner@northwind.test', truck.id, 'Tracker offline');
    const page = await agent.get(`/tickets/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Tracker offline');
    expect(page.text).toContain('No position since Monday.');
    expect((await agent.get(`/assets/${truck.id}`)).text).toContain('Tracker offline');
    expect((await agent.get('/tickets')).text).toContain('Tracker offline');
  });

  it('re-renders the form with a message next to each bad field and writes nothing', async () => {
    const { agent, csrf } = await signedInAgent(app, 'owner@northwind.test');
    const before = await db('tickets').count({ n: '*' }).first();
    const res = await agent
      .post('/tickets')
      .type('form')
      .send({ _csrf: csrf, asset_id: '', subject: '', category: 'x', message: '' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Give the ticket a subject.');
    expect(res.text).toContain('Write a message.');
    expect(await db('tickets').count({ n: '*' }).first()).toEqual(before);
  });

  it('opens a ticket about the account without an asset', async () => {
    const { agent, id } = await openAs('owner@northwind.test', '', 'Invoice address');
    expect((await agent.get(`/tickets/${id}`)).text).toContain('The account');
  });

  it('refuses a group supervisor (read only) and hides the link on the asset page', async () => {
    const { agent, csrf } = await signedInAgent(app, 'viewer@northwind.test');
    expect(
      (
        await agent
          .post('/tickets')
          .type('form')
          .send({ _csrf: csrf, asset_id: truck.id, subject: 'x', category: 'other', message: 'x' })
      ).status,
    ).toBe(403);
    expect((await agent.get(`/assets/${truck.id}`)).text).not.toContain('Open a ticket about this asset');
  });

  it('lets a group admin reach tickets about assets of their groups only', async () => {
    const inGroup = await openAs('owner@northwind.test', truck.id, 'Trucks ticket');
    const outside = await openAs('owner@northwind.test', other.id, 'Vans ticket');
    const { agent } = await signedInAgent(app, 'fleet@northwind.test');
    expect((await agent.get(`/tickets/${inGroup.id}`)).status).toBe(200);
    expect((await agent.get(`/tickets/${outside.id}`)).status).toBe(404);
    const list = await agent.get('/tickets');
    expect(list.text).toContain('Trucks ticket');
    expect(list.text).not.toContain('Vans ticket');
  });
});

describe('the thread', () => {
  it('adds a comment in place for htmx, and with a redirect for a plain form', async () => {
    const { agent, csrf, id } = await openAs('owner@northwind.test', truck.id, 'Comment test');
    const htmx = await agent
      .post(`/tickets/${id}/comments`)
      .set('HX-Request', 'true')
      .type('form')
      .send({ _csrf: csrf, body: 'Still offline today.' });
    expect(htmx.status).toBe(200);
    expect(htmx.text).toMatch(/^<section id="ticket-thread"/);
    expect(htmx.text).toContain('Still offline today.');
    const plain = await agent.post(`/tickets/${id}/comments`).type('form').send({ _csrf: csrf, body: 'And now?' });
    expect(plain.status).toBe(303);
    expect((await agent.get(`/tickets/${id}`)).text).toContain('And now?');
  });

  it(
    'staff reply and change the status; the opener and a following company admin get one mail each, ' +
      'through the outbox',
    async () => {
      const { id } = await openAs('fleet@northwind.test', truck.id, 'Mail test');
      const owner = await signedInAgent(app, 'owner@northwind.test');
      expect((await owner.agent.post(`/tickets/${id}/following`).type('form').send({ _csrf: owner.csrf })).status).toBe(
        303,
      );
      const before = (await ticketMail()).length;
      const staff = await signedInAgent(app, 'support@demo.test');
      const res = await staff.agent
        .post(`/admin/tickets/${id}/comments`)
        .type('form')
        .send({ _csrf: staff.csrf, body: 'Please restart the tracker.', status: 'waiting_on_customer' });
      expect(res.status).toBe(303);
      const mails = (await ticketMail()).slice(before);
      expect(mails.map((m) => m.recipient).sort()).toEqual(['fleet@northwind.test', 'owner@northwind.test']);
      expect(mails[0]!.subject).toContain('New reply, now Waiting on customer: Mail test');
      expect(mails[0]!.body_text).toContain('> Please restart the tracker.');
      expect(mails[0]!.headers).toHaveProperty('List-Unsubscribe');
      const page = await owner.agent.get(`/tickets/${id}`);
      expect(page.text).toContain('Please restart the tracker.');
      expect(page.text).toMatch(
        /changed the status from <strong>Open<\/strong> to <strong>Waiting on customer<\/strong>/,
      );
      // the customer answering hands it back to staff
      await owner.agent.post(`/tickets/${id}/comments`).type('form').send({ _csrf: owner.csrf, body: 'Restarted.' });
      expect(await db('tickets').where({ id }).first('status')).toEqual({ status: 'open' });
    },
  );

  it('sends no ticket mail to someone who turned it off in their settings', async () => {
    const { id, agent, csrf } = await openAs('fleet@northwind.test', truck.id, 'Quiet test');
    // the settings form: every switch the role has, ticket updates left unchecked
    expect(
      (await agent.post('/settings/notifications').type('form').send({ _csrf: csrf, renewal_reminders: 'on' })).status,
    ).toBe(303);
    const before = (await ticketMail()).length;
    const staff = await signedInAgent(app, 'admin@demo.test');
    await staff.agent
      .post(`/admin/tickets/${id}/comments`)
      .type('form')
      .send({ _csrf: staff.csrf, body: '', status: 'resolved' });
    expect((await ticketMail()).slice(before)).toEqual([]);
    expect(await db('tickets').where({ id }).first('status')).toEqual({ status: 'resolved' });
    await agent
      .post('/settings/notifications')
      .type('form')
      .send({ _csrf: csrf, renewal_reminders: 'on', ticket_updates: 'on' });
  });

  it('mails only the followers who still reach the ticket, checked for each one when staff answer', async () => {
    const { id } = await openAs('fleet@northwind.test', truck.id, 'Reach test');
    // three company admins of Northwind follow it; then two of them lose the ticket
    const followers = await Promise.all(
      ['stays', 'moved', 'demoted'].map((who) =>
        makeUser(db, { tenantId, role: 'company_admin', customerId: northwind }, { email: `${who}@northwind.test` }),
      ),
    );
    for (const f of followers) {
      const { agent, csrf } = await signedInAgent(app, f.email, f.password);
      expect((await agent.post(`/tickets/${id}/following`).type('form').send({ _csrf: csrf })).status).toBe(303);
    }
    const [, moved, demoted] = followers;
    // now a company admin of the inner customer only, which does not reach its parent's tickets
    await db('memberships')
      .where({ tenant_id: tenantId, id: moved!.membershipId })
      .update({ customer_id: demoId('customer:northwind-south') });
    // now a group supervisor of Vans, while the ticket is about a truck
    await db('memberships')
      .where({ tenant_id: tenantId, id: demoted!.membershipId })
      .update({ role: 'group_supervisor' });
    await db('membership_groups').insert({
      tenant_id: tenantId,
      membership_id: demoted!.membershipId,
      group_id: demoId('group:vans'),
    });
    for (const f of [moved!, demoted!]) {
      const { agent } = await signedInAgent(app, f.email, f.password);
      expect((await agent.get(`/tickets/${id}`)).status).toBe(404);
    }
    const before = (await ticketMail()).length;
    const staff = await signedInAgent(app, 'support@demo.test');
    await staff.agent
      .post(`/admin/tickets/${id}/comments`)
      .type('form')
      .send({ _csrf: staff.csrf, body: 'The tracker is replaced tomorrow.', status: 'open' });
    const mails = (await ticketMail()).slice(before);
    expect(mails.map((m) => m.recipient).sort()).toEqual(['fleet@northwind.test', 'stays@northwind.test']);
  });

  it('asks staff for a reply or a new status when they send neither', async () => {
    const { id } = await openAs('owner@northwind.test', truck.id, 'Empty reply');
    const staff = await signedInAgent(app, 'support@demo.test');
    const res = await staff.agent
      .post(`/admin/tickets/${id}/comments`)
      .type('form')
      .send({ _csrf: staff.csrf, body: ' ', status: 'open' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('Write a reply or choose a new status.');
  });

  it('refuses comments on a closed ticket with the reason', async () => {
    const { id, agent, csrf } = await openAs('owner@northwind.test', truck.id, 'Closed test');
    const staff = await signedInAgent(app, 'support@demo.test');
    await staff.agent
      .post(`/admin/tickets/${id}/comments`)
      .type('form')
      .send({ _csrf: staff.csrf, body: 'Done.', status: 'closed' });
    const res = await agent.post(`/tickets/${id}/comments`).type('form').send({ _csrf: csrf, body: 'One more thing' });
    expect(res.status).toBe(409);
    expect(res.text).toContain('This ticket is closed');
  });
});

describe('lists', () => {
  it('shows past activation and deactivation requests among the customer’s tickets', async () => {
    const { agent } = await signedInAgent(app, 'owner@northwind.test');
    const list = await agent.get('/tickets');
    expect(list.text).toMatch(/(Activation|Deactivation|Reactivation) request/);
    // a status filter shows tickets only
    expect((await agent.get('/tickets?status=open')).text).not.toMatch(
      /(Activation|Deactivation|Reactivation) request/,
    );
  });

  it('lets staff filter all the tenant’s tickets by status and customer, and keeps another tenant out', async () => {
    await openAs('owner@northwind.test', truck.id, 'Staff filter test');
    const staff = await signedInAgent(app, 'support@demo.test');
    expect((await staff.agent.get(`/admin/tickets?status=open&customer=${northwind}`)).text).toContain(
      'Staff filter test',
    );
    expect((await staff.agent.get(`/admin/tickets?status=closed`)).text).not.toContain('Staff filter test');
    const otherTenant = await signedInAgent(app, 'admin@other.test');
    expect((await otherTenant.agent.get('/admin/tickets')).text).not.toContain('Staff filter test');
  });

  it('pages the list by keyset without repeating or losing a row', async () => {
    for (let i = 0; i < 30; i++) await openAs('owner@northwind.test', '', `Paging ${i}`);
    const staff = await signedInAgent(app, 'admin@demo.test');
    const seen: string[] = [];
    let url: string | null = `/admin/tickets?customer=${northwind}`;
    while (url) {
      const res = await staff.agent.get(url);
      seen.push(...[...res.text.matchAll(/href="\/admin\/tickets\/([0-9a-f-]{36})"/g)].map((m) => m[1]!));
      const next = /href="([^"]+)" rel="next"/.exec(res.text);
      url = next ? next[1]!.replaceAll('&amp;', '&') : null;
    }
    const total = Number((await db('tickets').where({ customer_id: northwind }).count({ n: '*' }).first())!.n);
    expect(seen.length).toBe(total);
    expect(new Set(seen).size).toBe(total);
  });
});

describe('the quick comment on the ticket list', () => {
  it('offers each open ticket a labelled comment form on the list, and none to a group supervisor', async () => {
    const { agent, id } = await openAs('owner@northwind.test', truck.id, 'Quick list ticket');
    const list = await agent.get('/tickets');
    expect(list.text).toContain(
      `<form id="qc-${id}" class="quick-comment" method="post" action="/tickets/${id}/comments"`,
    );
    expect(list.text).toMatch(new RegExp(`<label for="qc-${id}-body">Comment on #\\d+ Quick list ticket</label>`));
    const viewer = await signedInAgent(app, 'viewer@northwind.test');
    expect((await viewer.agent.get('/tickets')).text).not.toContain('class="quick-comment"');
  });

  it('adds a comment in place with htmx, and the comment appears on the ticket', async () => {
    const { agent, csrf, id } = await openAs('owner@northwind.test', truck.id, 'Quick htmx ticket');
    const res = await agent
      .post(`/tickets/${id}/comments`)
      .set('HX-Request', 'true')
      .type('form')
      .send({ _csrf: csrf, from: 'list', body: 'Added from the list.' });
    expect(res.status).toBe(200);
    expect(res.text.trim().startsWith(`<form id="qc-${id}"`)).toBe(true);
    expect(res.text).toContain('Your comment has been added.');
    expect((await agent.get(`/tickets/${id}`)).text).toContain('Added from the list.');
  });

  it('answers an empty quick comment in place with the message (422), and writes nothing', async () => {
    const { agent, csrf, id } = await openAs('owner@northwind.test', truck.id, 'Quick empty ticket');
    const before = await db('ticket_entries').where({ tenant_id: tenantId, ticket_id: id }).count({ n: '*' }).first();
    const res = await agent
      .post(`/tickets/${id}/comments`)
      .set('HX-Request', 'true')
      .type('form')
      .send({ _csrf: csrf, from: 'list', body: '  ' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('aria-invalid="true"');
    expect(res.text).not.toContain('<html');
    const after = await db('ticket_entries').where({ tenant_id: tenantId, ticket_id: id }).count({ n: '*' }).first();
    expect(after).toEqual(before);
  });

  it('works as a plain form without JavaScript: back to the list with a note', async () => {
    const { agent, csrf, id } = await openAs('owner@northwind.test', truck.id, 'Quick plain ticket');
    const res = await agent
      .post(`/tickets/${id}/comments`)
      .type('form')
      .send({ _csrf: csrf, from: 'list', body: 'Plain from the list.' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/tickets');
    expect((await agent.get('/tickets')).text).toMatch(/Your comment on #\d+ has been added\./);
    expect((await agent.get(`/tickets/${id}`)).text).toContain('Plain from the list.');
  });
});
