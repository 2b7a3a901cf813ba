import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { csrfFrom, signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { decode, fieldError } from '../support/forms.js';

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db });
const demo = demoId('tenant:demo');
const northwind = demoId('customer:northwind');
const northwindSouth = demoId('customer:northwind-south');
const acme = demoId('customer:acme');
const tab = `/admin/customers/${northwind}/users`;

const admin = await signedInAgent(app, 'admin@demo.test');
const owner = await signedInAgent(app, 'owner@northwind.test');

type Agent = Awaited<ReturnType<typeof signedInAgent>>;
const post = (who: Agent, path: string, fields: Record<string, string> = {}) =>
  who.agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: who.csrf });
let seq = 0;
const newEmail = () => `person-${++seq}-${Date.now().toString(36)}@northwind.test`;
const addUser = (fields: Partial<Record<'name' | 'email' | 'role' | 'activation', string>> = {}) =>
  post(admin, tab, {
    name: 'Nadia North',
    email: newEmail(),
    role: 'group_supervisor',
    activation: 'email',
    ...fields,
  });

/** The path of the activation link shown in the read-only field of a user page. */
const linkOnPage = (html: string) =>
  new URL(decode(/id="activation-link"[^>]*value="([^"]+)"/.exec(html)![1]!)).pathname;
const mailsTo = (email: string) =>
  db('outbox').where({ recipient: email }).orderBy('id').select('subject', 'body_text');
const linkInMail = (text: string) => /https?:\/\/[^\s]+(\/activate\/[A-Za-z0-9_-]+)/.exec(text)![1]!;
const userByEmail = (email: string) =>
  db('users').whereRaw('lower(email) = lower(?)', [email]).first('id', 'name', 'status', 'password_hash');
const count = async (table: string) => Number((await db(table).count<{ n: number }[]>({ n: '*' }))[0]!.n);

/** Opens an activation link in a fresh browser-like client and submits the password form. */
async function activate(path: string, password: string, passwordConfirm = password, client = supertest.agent(app)) {
  const form = await client.get(path);
  const res = await client
    .post(path)
    .type('form')
    .send({ password, passwordConfirm, _csrf: csrfFrom(form.text) });
  return { client, form, res };
}

describe('the users tab of a customer', () => {
  it('lists the customer’s users with role and status, and an Add user button', async () => {
    const res = await admin.agent.get(tab);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<h1>Northwind Logistics</h1>');
    expect(res.text).toMatch(/<a href="[^"]+\/users" aria-current="page">Users<\/a>/);
    expect(res.text).toContain(`href="${tab}/new">Add user</a>`);
    expect(res.text).toMatch(
      new RegExp(
        String.raw`Olivia Owner<\/a><\/th>\s*<td>owner@northwind.test<\/td>\s*<td>Company admin<\/td>\s*` +
          String.raw`<td><span class="badge badge-active">Active<\/span>`,
      ),
    );
    expect(res.text).toMatch(
      new RegExp(
        String.raw`Nell Newhire<\/a><\/th>\s*<td>new.hire@northwind.test<\/td>\s*<td>Group supervisor<\/td>\s*` +
          String.raw`<td><span class="badge badge-pending">Pending activation<\/span>`,
      ),
    );
    expect(res.text).not.toContain('admin@demo.test');
  });

  it('searches by name or email and answers htmx with only the table fragment', async () => {
    const res = await admin.agent.get(`${tab}?q=FLEET`).set('HX-Request', 'true');
    expect(res.status).toBe(200);
    expect(res.text.trimStart()).toMatch(/^<div id="customer-users-table">/);
    expect(res.text).toContain('Finn Fleet');
    expect(res.text).not.toContain('Olivia Owner');
    expect(res.headers.vary).toContain('HX-Request');
  });

  it('lets a support agent read the tab but change nothing, and hides another tenant’s customer (404)', async () => {
    const support = await signedInAgent(app, 'support@demo.test');
    // support reads the users (and starts "view as" on a user's page); adding and editing are the admin's
    const list = await support.agent.get(tab);
    expect(list.status).toBe(200);
    expect(list.text).not.toContain('Add user');
    expect((await support.agent.get(`${tab}/new`)).status).toBe(403);
    const added = await support.agent
      .post(tab)
      .type('form')
      .send({ name: 'Not Allowed', email: newEmail(), role: 'group_admin', activation: 'link', _csrf: support.csrf });
    expect(added.status).toBe(403);
    const other = await signedInAgent(app, 'admin@other.test');
    expect((await other.agent.get(tab)).status).toBe(404);
    expect((await admin.agent.get('/admin/customers/not-a-uuid/users')).status).toBe(404);
  });
});

describe('adding a customer user', () => {
  it(
    'with the emailed link: queues exactly one activation mail to the new address, ' +
      'with a link that opens the form',
    async () => {
      const email = newEmail();
      const res = await addUser({ name: 'Emil Mail', email, activation: 'email' });
      expect(res.status).toBe(303);
      const user = await userByEmail(email);
      expect(user).toMatchObject({ name: 'Emil Mail', status: 'pending', password_hash: null });
      expect(res.headers.location).toBe(`${tab}/${user.id}`);
      const mails = await mailsTo(email);
      expect(mails).toHaveLength(1);
      expect(mails[0].subject).toBe('Activate your Portico account');
      expect(mails[0].body_text).toContain('Dana Admin gave you a Portico account at Northwind Logistics');
      expect(mails[0].body_text).toMatch(/works once and expires in 7 days/);
      const page = await admin.agent.get(res.headers.location!);
      expect(page.text).toContain(`An activation email is on its way to ${email}.`);
      expect(page.text).toContain('Pending activation');
      expect(page.text).not.toContain('id="activation-link"');
      const form = await supertest(app).get(linkInMail(mails[0].body_text));
      expect(form.status).toBe(200);
      expect(form.text).toContain('<h1>Activate your account</h1>');
      expect(form.headers['cache-control']).toBe('no-store');
    },
  );

  it('with a displayed link: mails nothing and shows the link on the new user’s page, once', async () => {
    const email = newEmail();
    const res = await addUser({ name: 'Lina Link', email, activation: 'link' });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('<h1>Lina Link');
    expect(res.text).toContain('Lina Link was added: hand over their activation link');
    expect(linkOnPage(res.text)).toMatch(/^\/activate\/[A-Za-z0-9_-]{40,}$/);
    expect(await mailsTo(email)).toHaveLength(0);
    const user = await userByEmail(email);
    const later = await admin.agent.get(`${tab}/${user.id}`);
    expect(later.text).not.toContain('id="activation-link"');
    expect(later.text).toContain('Show activation link');
    expect(later.text).toContain('Resend activation email');
  });

  it(
    'refuses an email that already has access to this customer in any case, a bad email, an empty name and ' +
      'an unknown role with 422, writing nothing',
    async () => {
      const before = await Promise.all(['users', 'memberships', 'outbox', 'audit_log', 'user_tokens'].map(count));
      const duplicate = await addUser({ email: 'OWNER@Northwind.TEST' });
      expect(duplicate.status).toBe(422);
      expect(fieldError(duplicate.text, 'email')).toBe(
        'This person already has access here. Find them in the list of users.',
      );
      expect(duplicate.text).toContain('value="OWNER@Northwind.TEST"');
      expect(duplicate.text).toContain('aria-invalid="true"');
      const bad = await addUser({ email: 'not an email', name: '', role: 'tenant_admin' });
      expect(bad.status).toBe(422);
      expect(fieldError(bad.text, 'email')).toContain('valid email address');
      expect(fieldError(bad.text, 'name')).toBe("Enter the user's name.");
      expect(fieldError(bad.text, 'role')).toBe('Choose one of the roles.');
      const long = await addUser({ name: 'x'.repeat(201) });
      expect(fieldError(long.text, 'name')).toBe('Use at most 200 characters.');
      const after = await Promise.all(['users', 'memberships', 'outbox', 'audit_log', 'user_tokens'].map(count));
      expect(after).toEqual(before);
    },
  );

  it('shows a script in a user’s name as text', async () => {
    const email = newEmail();
    const res = await addUser({ name: '<script>alert("x")</script>', email, activation: 'link' });
    expect(res.status).toBe(201);
    expect(res.text).not.toContain('<script>alert');
    expect(res.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    const list = await admin.agent.get(tab);
    expect(list.text).not.toContain('<script>alert');
    expect(list.text).toContain('&lt;script&gt;');
  });
});

describe('activation links', () => {
  it('a resent email kills the old link at once; the new one works', async () => {
    const email = newEmail();
    await addUser({ email, activation: 'email' });
    const user = await userByEmail(email);
    const oldLink = linkInMail((await mailsTo(email))[0].body_text);
    const res = await post(admin, `${tab}/${user.id}/activation-email`);
    expect(res.status).toBe(303);
    const mails = await mailsTo(email);
    expect(mails).toHaveLength(2);
    expect(mails[1].body_text).toContain('sent you a new link');
    const newLink = linkInMail(mails[1].body_text);
    expect(newLink).not.toBe(oldLink);
    const old = await supertest(app).get(oldLink);
    expect(old.status).toBe(404);
    expect(old.text).toContain('This activation link is no longer valid');
    expect((await supertest(app).get(newLink)).status).toBe(200);
  });

  it('showing the link again issues a new one and kills the emailed one', async () => {
    const email = newEmail();
    await addUser({ email, activation: 'email' });
    const user = await userByEmail(email);
    const mailed = linkInMail((await mailsTo(email))[0].body_text);
    const shown = await post(admin, `${tab}/${user.id}/activation-link`);
    expect(shown.status).toBe(200);
    expect(shown.headers['cache-control']).toBe('no-store');
    expect(shown.text).toContain('Earlier links, including any emailed one, no longer work.');
    expect((await supertest(app).get(mailed)).text).toContain('no longer valid');
    expect((await supertest(app).get(linkOnPage(shown.text))).status).toBe(200);
  });

  it(
    'refuses a short or common password and a mismatched confirmation with 422, ' +
      'then activates once and signs the user in',
    async () => {
      const email = newEmail();
      const created = await addUser({ name: 'Ada Active', email, activation: 'link' });
      const link = linkOnPage(created.text);
      const client = supertest.agent(app);

      const short = await activate(link, 'short', 'short', client);
      expect(short.res.status).toBe(422);
      expect(fieldError(short.res.text, 'password')).toBe('Use at least 12 characters.');
      expect(short.form.text).toContain('At least 12 characters.');
      const common = await activate(link, 'password1234', 'password1234', client);
      expect(common.res.status).toBe(422);
      expect(fieldError(common.res.text, 'password')).toContain('too common');
      const mismatch = await activate(link, 'blue kettle on a sunny hill', 'blue kettle on a sunny hall', client);
      expect(mismatch.res.status).toBe(422);
      expect(fieldError(mismatch.res.text, 'passwordConfirm')).toBe('The two passwords do not match.');
      expect((await userByEmail(email)).status).toBe('pending');

      const ok = await activate(link, 'blue kettle on a sunny hill', 'blue kettle on a sunny hill', client);
      expect(ok.res.status).toBe(303);
      expect(ok.res.headers.location).toBe('/');
      const home = await client.get('/');
      expect(home.status).toBe(200);
      expect(home.text).toContain('<h1>Northwind Logistics</h1>');
      expect(home.text).toContain('Your account is active');
      const user = await userByEmail(email);
      expect(user.status).toBe('active');
      expect(user.password_hash).toMatch(/^\$argon2id\$/);

      const again = await activate(link, 'another long passphrase', 'another long passphrase');
      expect(again.form.status).toBe(404);
      expect(again.form.text).toContain('already been used');
      expect(again.res.status).toBe(404);
      expect((await signedInAgent(app, email, 'blue kettle on a sunny hill')).landing).toBe('/');
      expect((await admin.agent.get(`${tab}/${user.id}`)).text).not.toContain('Resend activation email');
    },
  );

  it('refuses a link older than 7 days and tells the person to ask their administrator', async () => {
    const clock = fixedClock('2026-11-24T09:00:00Z');
    const late = testApp({ db, clock });
    const lateAdmin = await signedInAgent(late.app, 'admin@demo.test');
    const created = await lateAdmin.agent
      .post(tab)
      .type('form')
      .send({ name: 'Lou Late', email: newEmail(), role: 'site_viewer', activation: 'link', _csrf: lateAdmin.csrf });
    const link = linkOnPage(created.text);
    clock.advance(7 * 24 * 60 * 60 * 1000 + 1000);
    const res = await supertest(late.app).get(link);
    expect(res.status).toBe(410);
    expect(res.text).toContain('This activation link is no longer valid');
    expect(res.text).toContain('expired');
    expect(res.text).toContain('Ask your administrator for a new link.');
  });

  it('locks an address out after 30 unknown links, with the time to wait', async () => {
    const proxied = testApp({ db, env: { TRUST_PROXY: '1' } });
    const from = (n: number) =>
      supertest(proxied.app)
        .get(`/activate/${'x'.repeat(43 - String(n).length)}${n}`)
        .set('X-Forwarded-For', '203.0.113.9');
    for (let i = 0; i < 30; i++) expect((await from(i)).status).toBe(404);
    const locked = await from(99);
    expect(locked.status).toBe(429);
    expect(locked.text).toContain('Try again in 15 minutes.');
    expect(locked.headers['retry-after']).toBe('900');
    const elsewhere = await supertest(proxied.app)
      .get('/activate/unknown-link-from-another-address-000000')
      .set('X-Forwarded-For', '203.0.113.10');
    expect(elsewhere.status).toBe(404);
  });
});

describe('changing and removing a customer user', () => {
  it('disabling a user ends their existing session at once', async () => {
    const person = await makeUser(
      db,
      { tenantId: demo, role: 'group_admin', customerId: northwind },
      { name: 'Dora Disabled' },
    );
    const them = await signedInAgent(app, person.email, TEST_PASSWORD);
    expect((await them.agent.get('/')).status).toBe(200);
    const edit = await admin.agent.get(`${tab}/${person.id}/edit`);
    expect(edit.text).toContain('Disabled: cannot sign in');
    const res = await post(admin, `${tab}/${person.id}`, {
      name: 'Dora Disabled',
      role: 'group_admin',
      status: 'disabled',
    });
    expect(res.status).toBe(303);
    const after = await them.agent.get('/');
    expect(after.status).toBe(303);
    expect(after.headers.location).toMatch(/^\/login/);
    expect(await db('session').where({ user_id: person.id }).count<{ n: number }[]>({ n: '*' })).toEqual([{ n: 0 }]);
    await expect(signedInAgent(app, person.email, TEST_PASSWORD)).rejects.toThrow(/422/);
  });

  it('keeps a pending user pending whatever status is posted, and checks the name', async () => {
    const email = newEmail();
    await addUser({ email });
    const user = await userByEmail(email);
    const edit = await admin.agent.get(`${tab}/${user.id}/edit`);
    expect(edit.text).toContain('becomes active when');
    expect(edit.text).not.toContain('name="status"');
    await post(admin, `${tab}/${user.id}`, { name: 'Pia Pending', role: 'group_admin', status: 'active' });
    expect(await userByEmail(email)).toMatchObject({ name: 'Pia Pending', status: 'pending' });
    const bad = await post(admin, `${tab}/${user.id}`, { name: ' ', role: 'group_admin' });
    expect(bad.status).toBe(422);
    expect(fieldError(bad.text, 'name')).toBe("Enter the user's name.");
  });

  it(
    'deletes a user only after a confirmation page, ' + 'and removes their login when it was their only membership',
    async () => {
      const email = newEmail();
      await addUser({ name: 'Dan Deleted', email });
      const user = await userByEmail(email);
      const confirm = await admin.agent.get(`${tab}/${user.id}/delete`);
      expect(confirm.status).toBe(200);
      expect(confirm.text).toContain('This cannot be undone.');
      expect(await userByEmail(email)).toBeTruthy();
      const res = await post(admin, `${tab}/${user.id}/delete`);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(tab);
      expect((await admin.agent.get(tab)).text).toContain('Deleted Dan Deleted.');
      expect(await userByEmail(email)).toBeUndefined();
      expect((await admin.agent.get(`${tab}/${user.id}`)).status).toBe(404);
      // the address is free again
      expect((await addUser({ email })).status).toBe(303);
    },
  );

  it('keeps the login of a deleted user who still belongs to another provider', async () => {
    const elsewhere = await makeTenant(db);
    const theirCustomer = await makeCustomer(db, elsewhere.id);
    const person = await makeUser(db, { tenantId: demo, role: 'site_viewer', customerId: northwind });
    await db('memberships').insert({
      tenant_id: elsewhere.id,
      user_id: person.id,
      role: 'group_admin',
      customer_id: theirCustomer.id,
    });
    expect((await post(admin, `${tab}/${person.id}/delete`)).status).toBe(303);
    expect(await userByEmail(person.email)).toBeTruthy();
    expect(await db('memberships').where({ user_id: person.id }).pluck('tenant_id')).toEqual([elsewhere.id]);
  });
});

const acmeUser = await makeUser(db, { tenantId: demo, role: 'group_admin', customerId: acme }, { name: 'Arlo Acme' });
const southUser = await makeUser(
  db,
  { tenantId: demo, role: 'site_viewer', customerId: northwindSouth },
  { name: 'Sol South' },
);

describe('the Users page of a company admin', () => {
  it('shows users of their customer and its inner customers, with role, status and customer', async () => {
    const res = await owner.agent.get('/users?size=100');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(
      new RegExp(
        String.raw`Sol South<\/a><\/th>\s*<td>[^<]+<\/td>\s*<td>Site viewer<\/td>\s*` +
          String.raw`<td><span class="badge badge-active">Active<\/span><\/td>\s*<td>[\s\S]*?<\/td>\s*` +
          String.raw`<td>Northwind South<\/td>`,
      ),
    );
    expect(res.text).toContain('Nell Newhire');
    expect(res.text).not.toContain('Arlo Acme');
    const south = await owner.agent.get(`/users?customer=${northwindSouth}`);
    expect(south.text).toContain('Sol South');
    expect(south.text).not.toContain('owner@northwind.test');
  });

  it('hides a user of another customer (404) and the staff tab (403)', async () => {
    expect((await owner.agent.get(`/users/${acmeUser.id}`)).status).toBe(404);
    expect(
      (await post(owner, `/users/${acmeUser.id}`, { name: 'Hacked', role: 'company_admin', status: 'active' })).status,
    ).toBe(404);
    expect((await post(owner, `/users/${acmeUser.id}/activation-link`)).status).toBe(404);
    expect((await owner.agent.get(`/admin/customers/${northwind}/users`)).status).toBe(403);
    expect((await owner.agent.get(`/users/${southUser.id}`)).status).toBe(200);
  });

  it('adds a user to an inner customer, but not to a customer out of reach', async () => {
    const form = await owner.agent.get('/users/new');
    expect(form.text).toContain(`<option value="${northwindSouth}">Northwind South</option>`);
    expect(form.text).not.toContain('Acme Field Services');
    const email = newEmail();
    const res = await post(owner, '/users', {
      name: 'Ines Inner',
      email,
      role: 'group_admin',
      activation: 'link',
      customerId: northwindSouth,
    });
    expect(res.status).toBe(201);
    expect(res.text).toContain('id="activation-link"');
    expect(res.text).toContain('Northwind South');
    const refused = await post(owner, '/users', {
      name: 'Out Side',
      email: newEmail(),
      role: 'group_admin',
      activation: 'email',
      customerId: acme,
    });
    expect(refused.status).toBe(404);
    const none = await post(owner, '/users', {
      name: 'No Where',
      email: newEmail(),
      role: 'group_admin',
      activation: 'email',
      customerId: '',
    });
    expect(none.status).toBe(422);
    expect(fieldError(none.text, 'customerId')).toBe('Choose a customer.');
  });

  it('changes a user’s role and status, but not their own', async () => {
    const res = await post(owner, `/users/${southUser.id}`, {
      name: 'Sol South',
      role: 'group_admin',
      status: 'disabled',
    });
    expect(res.status).toBe(303);
    const page = await owner.agent.get(`/users/${southUser.id}`);
    expect(page.text).toContain('Saved the changes to Sol South.');
    expect(page.text).toMatch(/<dt>Role<\/dt><dd>Group admin<\/dd>/);
    expect(page.text).toContain('badge-disabled');
    const ownId = demoId('user:owner@northwind.test');
    const self = await post(owner, `/users/${ownId}`, {
      name: 'Olivia Owner',
      role: 'group_supervisor',
      status: 'disabled',
    });
    expect(self.status).toBe(422);
    expect(fieldError(self.text, 'status')).toBe('You cannot disable your own account.');
    expect(fieldError(self.text, 'role')).toBe('You cannot change your own role.');
    expect((await owner.agent.get('/users')).status).toBe(200);
  });

  it(
    'changes only its own membership of a person whose login also serves ' + 'the provider and another customer',
    async () => {
      // Sam: a group admin of Northwind, and with the same login a support agent and a company admin of Acme
      const sam = await makeUser(
        db,
        { tenantId: demo, role: 'group_admin', customerId: northwind },
        { name: 'Sam Shared' },
      );
      await db('memberships').insert({ tenant_id: demo, user_id: sam.id, role: 'support_agent' });
      await db('memberships').insert({ tenant_id: demo, user_id: sam.id, role: 'company_admin', customer_id: acme });
      const asNorthwind = await signedInAgent(app, sam.email, TEST_PASSWORD);
      expect(asNorthwind.landing).toBe('/');

      // the name belongs to the login: Northwind's admin cannot rename it for the provider and Acme
      const renamed = await post(owner, `/users/${sam.id}`, { name: 'Hacked', role: 'group_admin', status: 'active' });
      expect(renamed.status).toBe(422);
      expect(fieldError(renamed.text, 'name')).toBe(
        'Sam Shared also signs in elsewhere with this login, so only they can change their name (under Settings).',
      );
      expect(await userByEmail(sam.email)).toMatchObject({ name: 'Sam Shared', status: 'active' });
      // and the form says so rather than offering the field
      const page = await owner.agent.get(`/users/${sam.id}`);
      expect(page.text).not.toContain('name="name" type="text"');
      expect(decode(page.text)).toContain('Sam Shared also signs in elsewhere with this login');

      // disabling ends Sam's access to Northwind, not the login
      const disabled = await post(owner, `/users/${sam.id}`, {
        name: 'Sam Shared',
        role: 'group_admin',
        status: 'disabled',
      });
      expect(disabled.status).toBe(303);
      expect(await userByEmail(sam.email)).toMatchObject({ name: 'Sam Shared', status: 'active' });
      expect((await owner.agent.get(`/users/${sam.id}`)).text).toContain('badge-disabled');
      const signedOut = await asNorthwind.agent.get('/');
      expect(signedOut.status).toBe(303);
      expect(signedOut.headers.location).toMatch(/^\/login/);
      // Sam signs in again as support agent, and Northwind is no longer among the roles offered
      const again = await signedInAgent(app, sam.email, TEST_PASSWORD);
      expect(again.landing).toBe('/admin/customers');
      const roles = await again.agent.get('/session/membership');
      expect(roles.text).toContain('Acme');
      expect(roles.text).not.toContain('Northwind Logistics');
      expect((await owner.agent.get('/users?size=100')).text).toMatch(/Sam Shared<\/a><\/th>[\s\S]*?badge-disabled/);

      // enabling gives it back
      expect(
        (await post(owner, `/users/${sam.id}`, { name: 'Sam Shared', role: 'group_admin', status: 'active' })).status,
      ).toBe(303);
      expect((await signedInAgent(app, sam.email, TEST_PASSWORD)).landing).toBe('/');
    },
  );

  it("disables the login of a person who is this customer's alone", async () => {
    const solo = await makeUser(db, { tenantId: demo, role: 'group_admin', customerId: northwind }, { name: 'Solo' });
    expect((await owner.agent.get(`/users/${solo.id}`)).text).toContain('name="name" type="text"');
    const res = await post(owner, `/users/${solo.id}`, {
      name: 'Solo Renamed',
      role: 'group_admin',
      status: 'disabled',
    });
    expect(res.status).toBe(303);
    expect(await userByEmail(solo.email)).toMatchObject({ name: 'Solo Renamed', status: 'disabled' });
  });

  it('resends the activation email of a pending user', async () => {
    const pending = demoId('user:new.hire@northwind.test');
    const res = await post(owner, `/users/${pending}/activation-email`);
    expect(res.status).toBe(303);
    const mails = await mailsTo('new.hire@northwind.test');
    expect(mails).toHaveLength(1);
    expect(mails[0].body_text).toContain('Olivia Owner sent you a new link');
  });

  it('is refused to a group admin (403)', async () => {
    const fleet = await signedInAgent(app, 'fleet@northwind.test');
    expect((await fleet.agent.get('/users')).status).toBe(403);
    expect((await fleet.agent.get('/users/new')).status).toBe(403);
  });
});

describe('the audit log of customer users', () => {
  it('records creation, activation and changes without any token or password hash', async () => {
    const email = newEmail();
    const created = await addUser({ name: 'Audrey Audit', email, activation: 'link' });
    const link = linkOnPage(created.text);
    const token = link.split('/').pop()!;
    const user = await userByEmail(email);
    await activate(link, 'purple otter under a bridge');
    await post(admin, `${tab}/${user.id}`, { name: 'Audrey Audited', role: 'group_admin', status: 'active' });
    const rows = await db('audit_log')
      .where({ entity_type: 'user', entity_id: user.id })
      .orderBy('id')
      .select('action', 'actor_label', 'customer_id', 'before', 'after');
    expect(rows.map((r) => r.action)).toEqual(['user.created', 'user.activated', 'user.updated']);
    expect(rows.every((r) => r.customer_id === northwind)).toBe(true);
    expect(rows[1].actor_label).toBe(`Audrey Audit <${email}>`);
    expect(rows[2].before).toMatchObject({ name: 'Audrey Audit', role: 'group_supervisor' });
    expect(rows[2].after).toMatchObject({ name: 'Audrey Audited', role: 'group_admin' });
    const hash = (await userByEmail(email)).password_hash as string;
    const everything = JSON.stringify(await db('audit_log').select('*'));
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(hash);
    expect(JSON.stringify(rows)).not.toMatch(/argon2|password|activate\/|token/i);
  });
});
