import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { signedInAgent, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { decode, fieldError } from '../support/forms.js';

const { db } = await testDatabase();
await seedDemo(db);
const { app } = testApp({ db });
const demo = demoId('tenant:demo');
const northwind = demoId('customer:northwind');
const northwindSouth = demoId('customer:northwind-south');

const admin = await signedInAgent(app, 'admin@demo.test');
const support = await signedInAgent(app, 'support@demo.test');

type Agent = Awaited<ReturnType<typeof signedInAgent>>;
const post = (who: Agent, path: string, fields: Record<string, string>) =>
  who.agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: who.csrf });
const validCustomer = (fields: Record<string, string> = {}) => ({
  title: 'Fjord Freight',
  account_id: `FF-${Math.random().toString(36).slice(2, 8)}`,
  contact_name: 'Frida Fjord',
  email: 'ops@fjord.test',
  phone: '+47 22 00 00 00',
  address: 'Kaiveien 1\nOslo',
  parent_id: '',
  home_page: 'tickets',
  status: 'active',
  ...fields,
});
const customerCount = async () =>
  Number((await db('customers').where({ tenant_id: demo }).count<{ n: number }[]>({ n: '*' }))[0]!.n);

describe('the customer list', () => {
  it(
    'shows a tenant admin every customer of the tenant by title, with parent, ' + 'status and number of users',
    async () => {
      const res = await admin.agent.get('/admin/customers');
      expect(res.status).toBe(200);
      const titles = [...res.text.matchAll(/<th scope="row"><a href="\/admin\/customers\/[^"]+">([^<]+)</g)].map(
        (m) => m[1],
      );
      expect(titles.slice(0, 4)).toEqual([
        'Acme Field Services',
        'Harbor Telecom Users',
        'Northwind Logistics',
        'Northwind South',
      ]);
      expect(res.text).not.toContain('Other Provider Customer');
      expect(res.text).toMatch(
        /Northwind South<\/a><\/th>\s*<td><code>NW-1002<\/code><\/td>\s*<td>Northwind Logistics<\/td>/,
      );
      const northwindUsers = Number(
        (await db('memberships').where({ customer_id: northwind }).countDistinct<{ n: number }[]>({ n: 'user_id' }))[0]!
          .n,
      );
      expect(northwindUsers).toBeGreaterThan(1);
      expect(res.text).toMatch(
        new RegExp(
          `Northwind Logistics</a></th>\\s*<td><code>NW-1001</code></td>\\s*<td></td>\\s*` +
            `<td><span class="badge badge-active">Active</span></td>\\s*<td>${northwindUsers}</td>`,
        ),
      );
    },
  );

  it('finds customers by part of the title or of the account ID, whatever the case', async () => {
    const byTitle = await admin.agent.get('/admin/customers?q=NORTHW');
    expect(byTitle.text).toContain('Northwind Logistics');
    expect(byTitle.text).toContain('Northwind South');
    expect(byTitle.text).not.toContain('Acme Field Services');
    const byAccount = await admin.agent.get('/admin/customers?q=ac-20');
    expect(byAccount.text).toContain('Acme Field Services');
    expect(byAccount.text).not.toContain('Northwind Logistics');
    expect(byAccount.text).toContain('value="ac-20"');
  });

  it('treats % and _ in a search as plain characters', async () => {
    const res = await admin.agent.get('/admin/customers?q=%25');
    expect(res.text).toContain('No customer matches “%”.');
    // no title or account ID holds an underscore, while each has at least one character
    const underscore = await admin.agent.get('/admin/customers?q=_');
    expect(underscore.text).toContain('No customer matches “_”.');
  });

  it('answers an htmx search with only the table fragment, and says the answer varies by HX-Request', async () => {
    const res = await admin.agent.get('/admin/customers?q=harbor').set('HX-Request', 'true');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<html');
    expect(res.text.trimStart()).toMatch(/^<div id="customer-table"[ >]/);
    expect(res.text).toContain('Harbor Telecom Users');
    expect(res.headers.vary).toMatch(/HX-Request/i);
  });

  it('pages through a long result with Previous and Next links that keep the search', async () => {
    for (let i = 1; i <= 12; i++) await makeCustomer(db, demo, { title: `Paging Co ${String(i).padStart(2, '0')}` });
    const first = await admin.agent.get('/admin/customers?q=paging&size=10');
    expect(first.text).toContain('Page 1 of 2');
    expect(first.text).toContain('Paging Co 10');
    expect(first.text).not.toContain('Paging Co 11');
    expect(first.text).toContain('href="/admin/customers?q=paging&amp;size=10&amp;page=2"');
    expect(first.text).toContain('aria-label="Next page, page 2"');
    const second = await admin.agent.get('/admin/customers?q=paging&size=10&page=2');
    expect(second.text).toContain('Paging Co 12');
    expect(second.text).not.toContain('Paging Co 10');
    expect(second.text).toContain('aria-label="Previous page, page 1"');
    expect(second.text).not.toContain('rel="next"');
  });

  it('says no customer matches a search that finds nothing, and offers the whole list', async () => {
    const res = await admin.agent.get('/admin/customers?q=zebra');
    expect(res.text).toContain('No customer matches “zebra”.');
    expect(res.text).toContain('<a href="/admin/customers">Show all customers</a>');
  });

  it('greets a new provider with "No customers yet" and a link to create the first one', async () => {
    const tenant = await makeTenant(db);
    const newAdmin = await makeUser(db, { tenantId: tenant.id, role: 'tenant_admin' });
    const { agent } = await signedInAgent(app, newAdmin.email, TEST_PASSWORD);
    const res = await agent.get('/admin/customers');
    expect(res.text).toContain('No customers yet.');
    expect(res.text).toContain('Create the first customer');
  });
});

describe('creating a customer', () => {
  it('creates a customer from the form and shows its page with a message', async () => {
    const form = await admin.agent.get('/admin/customers/new');
    expect(form.status).toBe(200);
    const input = validCustomer({ title: 'Fjord Freight AS' });
    const res = await post(admin, '/admin/customers', input);
    expect(res.status).toBe(303);
    const page = await admin.agent.get(res.headers.location!);
    expect(page.text).toContain('Customer Fjord Freight AS created.');
    expect(page.text).toContain('<h1>Fjord Freight AS');
    expect(page.text).toContain(`<code>${input.account_id}</code>`);
    expect(page.text).toContain('Tickets');
    const id = res.headers.location!.split('/').pop();
    const logged = await db('audit_log').where({ customer_id: id, action: 'customer.created' }).first();
    expect(logged.after).toMatchObject({
      title: 'Fjord Freight AS',
      account_id: input.account_id,
      home_page: 'tickets',
    });
  });

  const refusals: [string, Record<string, string>, string, string][] = [
    ['an empty title', { title: '   ' }, 'title', 'Enter the customer’s title.'],
    ['a title of 201 characters', { title: 'T'.repeat(201) }, 'title', 'Keep the title to 200 characters or fewer.'],
    [
      'an account ID with spaces and punctuation',
      { account_id: 'NW 1001!' },
      'account_id',
      'Use 1 to 32 letters, digits, hyphens (-) or underscores (_).',
    ],
    [
      'an account ID another customer has',
      { account_id: 'nw-1001' },
      'account_id',
      'This account ID is already used by another customer.',
    ],
    ['a malformed email', { email: 'ops-at-fjord' }, 'email', 'Enter an email address like name@example.com.'],
  ];
  for (const [what, fields, field, message] of refusals) {
    it(`refuses ${what} with the message next to the field, keeps what was typed and saves nothing`, async () => {
      const before = await customerCount();
      const input: Record<string, string> = validCustomer({ contact_name: 'Kept Contact', ...fields });
      const res = await post(admin, '/admin/customers', input);
      expect(res.status).toBe(422);
      expect(fieldError(res.text, field)).toBe(message);
      expect(res.text).toContain(`id="f-${field}" name="${field}"`);
      expect(res.text).toMatch(new RegExp(`id="f-${field}"[^>]*aria-invalid="true"`));
      expect(res.text).toContain('value="Kept Contact"');
      expect(res.text).toContain(`value="${input[field]!.replace(/&/g, '&amp;')}"`);
      expect(await customerCount()).toBe(before);
    });
  }

  it('renders a script typed as a title as text, never as markup', async () => {
    const res = await post(admin, '/admin/customers', validCustomer({ title: '<script>alert(1)</script>' }));
    expect(res.status).toBe(303);
    const page = await admin.agent.get(res.headers.location!);
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>alert(1)');
    const list = await admin.agent.get('/admin/customers?q=script');
    expect(list.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(list.text).not.toContain('<script>alert(1)');
  });
});

describe('inner customers', () => {
  it('preselects the parent on "New inner customer" and lists the new customer under its parent', async () => {
    const show = await admin.agent.get(`/admin/customers/${northwind}`);
    expect(show.text).toContain(`href="/admin/customers/new?parent=${northwind}"`);
    const form = await admin.agent.get(`/admin/customers/new?parent=${northwind}`);
    expect(form.text).toMatch(
      new RegExp(`<option value="${northwind}" selected>Northwind Logistics \\(NW-1001\\)</option>`),
    );
    const res = await post(
      admin,
      '/admin/customers',
      validCustomer({ title: 'Northwind North', parent_id: northwind }),
    );
    expect(res.status).toBe(303);
    const child = await admin.agent.get(res.headers.location!);
    expect(child.text).toContain(
      `<dt>Parent customer</dt><dd><a href="/admin/customers/${northwind}">Northwind Logistics</a></dd>`,
    );
    const parent = await admin.agent.get(`/admin/customers/${northwind}`);
    expect(parent.text).toContain('Northwind North');
    expect(parent.text).toContain('Northwind South');
  });

  it('refuses to put a customer under itself or under one of its own inner customers', async () => {
    const form = await admin.agent.get(`/admin/customers/${northwind}/edit`);
    expect(form.text).not.toContain(`<option value="${northwindSouth}"`);
    for (const parent of [northwind, northwindSouth]) {
      const res = await post(
        admin,
        `/admin/customers/${northwind}`,
        validCustomer({ title: 'Northwind Logistics', account_id: 'NW-1001', parent_id: parent }),
      );
      expect(res.status).toBe(422);
      expect(fieldError(res.text, 'parent_id')).toBe(
        'A customer cannot be placed under itself or one of its inner customers.',
      );
    }
    expect((await db('customers').where({ id: northwind }).first()).parent_id).toBeNull();
  });

  it('refuses a parent from another tenant as if it did not exist', async () => {
    const res = await post(admin, '/admin/customers', validCustomer({ parent_id: demoId('customer:other') }));
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'parent_id')).toBe('Choose a parent customer from the list.');
  });
});

describe('editing a customer', () => {
  it('saves changes and shows the field-level difference in the audit log', async () => {
    const customer = await makeCustomer(db, demo, { title: 'Before Title', account_id: 'ED-1' });
    const form = await admin.agent.get(`/admin/customers/${customer.id}/edit`);
    expect(form.text).toContain('value="Before Title"');
    const res = await post(
      admin,
      `/admin/customers/${customer.id}`,
      validCustomer({
        title: 'After Title',
        account_id: 'ED-1',
        // unchanged: a new customer starts on the summary
        home_page: 'summary',
        email: '',
        contact_name: '',
        phone: '',
        address: '',
      }),
    );
    expect(res.status).toBe(303);
    expect((await admin.agent.get(res.headers.location!)).text).toContain('Customer After Title saved.');
    const audit = await admin.agent.get(`/admin/customers/${customer.id}/audit`);
    expect(audit.status).toBe(200);
    expect(audit.text).toContain('customer.updated');
    expect(audit.text).toContain('<summary>View difference');
    const diff = decode(/<pre class="json-diff">([^<]*)<\/pre>/.exec(audit.text)![1]!);
    expect(JSON.parse(diff)).toEqual({ title: { before: 'Before Title', after: 'After Title' } });
    expect(audit.text).toContain('Dana Admin &lt;admin@demo.test&gt;');
  });

  it('shows 50 audit entries at a time, newest first, with a link to older ones', async () => {
    const customer = await makeCustomer(db, demo, { title: 'Busy Ltd' });
    await db('audit_log').insert(
      Array.from({ length: 55 }, (_, i) => ({
        tenant_id: demo,
        actor_label: 'Importer',
        customer_id: customer.id,
        entity_type: 'customer',
        entity_id: customer.id,
        action: 'customer.updated',
        before: JSON.stringify({ phone: `${i}` }),
        after: JSON.stringify({ phone: `${i + 1}` }),
      })),
    );
    const first = await admin.agent.get(`/admin/customers/${customer.id}/audit`);
    expect(first.text.match(/<summary>View difference/g)).toHaveLength(50);
    expect(first.text).toContain('&quot;after&quot;: &quot;55&quot;');
    const older = /href="([^"]+\?before=\d+)" rel="next">Older entries</.exec(first.text)![1]!;
    const second = await admin.agent.get(older);
    expect(second.text.match(/<summary>View difference/g)).toHaveLength(5);
    expect(second.text).toContain('&quot;after&quot;: &quot;1&quot;');
    expect(second.text).not.toContain('Older entries');
    expect(second.text).toContain('Newest entries');
  });

  it('keeps the typed values and saves nothing when an edit is invalid', async () => {
    const customer = await makeCustomer(db, demo, { title: 'Steady Title' });
    const res = await post(
      admin,
      `/admin/customers/${customer.id}`,
      validCustomer({ title: 'Changed Title', account_id: 'AC-2001' }),
    );
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'account_id')).toBe('This account ID is already used by another customer.');
    expect(res.text).toContain('value="Changed Title"');
    expect((await db('customers').where({ id: customer.id }).first()).title).toBe('Steady Title');
  });
});

describe('deleting a customer', () => {
  it('changes nothing when the name is not typed, and says so next to the field', async () => {
    const customer = await makeCustomer(db, demo, { title: 'Keep Me Ltd' });
    const page = await admin.agent.get(`/admin/customers/${customer.id}/delete`);
    expect(page.text).toContain('Deleting cannot be undone');
    for (const typed of ['', 'keep me ltd']) {
      const res = await post(admin, `/admin/customers/${customer.id}/delete`, { confirm_title: typed });
      expect(res.status).toBe(422);
      expect(fieldError(res.text, 'confirm_title')).toBe("Type the customer's name exactly to delete it.");
    }
    expect(await db('customers').where({ id: customer.id }).first()).toBeTruthy();
  });

  it('deletes the customer once its name is typed, and keeps its audit log', async () => {
    const created = await post(admin, '/admin/customers', validCustomer({ title: 'Short Lived Ltd' }));
    const id = created.headers.location!.split('/').pop()!;
    const res = await post(admin, `/admin/customers/${id}/delete`, { confirm_title: '  Short Lived Ltd ' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/customers');
    const list = await admin.agent.get('/admin/customers');
    expect(list.text).toContain('Customer Short Lived Ltd deleted.');
    expect(list.text).not.toContain('>Short Lived Ltd<');
    expect(await db('customers').where({ id }).first()).toBeUndefined();
    expect(await db('audit_log').where({ customer_id: id }).orderBy('id').pluck('action')).toEqual([
      'customer.created',
      'customer.deleted',
    ]);
    expect((await admin.agent.get(`/admin/customers/${id}`)).status).toBe(404);
    const audit = await admin.agent.get(`/admin/customers/${id}/audit`);
    expect(audit.status).toBe(200);
    expect(audit.text).toContain('This customer was deleted. Its audit log is kept.');
  });

  it('refuses to delete a customer that still has inner customers, and says why', async () => {
    const page = await admin.agent.get(`/admin/customers/${northwind}/delete`);
    expect(page.text).toContain('This customer cannot be deleted yet.');
    expect(page.text).toContain('Delete or move its inner customers first.');
    expect(page.text).not.toContain('Delete customer permanently');
    const res = await post(admin, `/admin/customers/${northwind}/delete`, { confirm_title: 'Northwind Logistics' });
    expect(res.status).toBe(409);
    expect(res.text).toContain('Delete or move its inner customers first.');
    expect(await db('customers').where({ id: northwind }).first()).toBeTruthy();
  });

  it('disables and signs out users left with no access, and leaves people with other access alone', async () => {
    const customer = await makeCustomer(db, demo, { title: 'Closing Down Ltd' });
    const other = await makeCustomer(db, demo, { title: 'Still Here Ltd' });
    const onlyHere = await makeUser(db, { tenantId: demo, role: 'company_admin', customerId: customer.id });
    const alsoElsewhere = await makeUser(db, { tenantId: demo, role: 'company_admin', customerId: customer.id });
    await db('memberships').insert({
      tenant_id: demo,
      user_id: alsoElsewhere.id,
      role: 'group_admin',
      customer_id: other.id,
    });
    const signedIn = await signedInAgent(app, onlyHere.email, TEST_PASSWORD);
    expect((await signedIn.agent.get('/')).status).toBe(200);

    const page = await admin.agent.get(`/admin/customers/${customer.id}/delete`);
    expect(page.text).toContain(
      'the access of its 2 users to this customer; 1 of them has no other access and will be disabled and signed out',
    );
    expect(
      (await post(admin, `/admin/customers/${customer.id}/delete`, { confirm_title: 'Closing Down Ltd' })).status,
    ).toBe(303);

    expect((await db('users').where({ id: onlyHere.id }).first()).status).toBe('disabled');
    expect((await db('users').where({ id: alsoElsewhere.id }).first()).status).toBe('active');
    expect(await db('session').where({ user_id: onlyHere.id }).count<{ n: number }[]>({ n: '*' })).toEqual([{ n: 0 }]);
    expect((await signedIn.agent.get('/')).status).toBe(303);
    const actions = await db('audit_log').where({ customer_id: customer.id }).orderBy('id').pluck('action');
    expect(actions).toEqual(['membership.deleted', 'membership.deleted', 'user.disabled', 'customer.deleted']);
  });
});

describe('who may do what', () => {
  it('lets a support agent list and view customers but not create, edit, delete or read the audit log', async () => {
    expect((await support.agent.get('/admin/customers')).status).toBe(200);
    const show = await support.agent.get(`/admin/customers/${northwind}`);
    expect(show.status).toBe(200);
    expect(show.text).not.toContain('Edit customer');
    expect(show.text).not.toContain('New inner customer');
    expect((await support.agent.get('/admin/customers/new')).status).toBe(403);
    expect((await support.agent.get(`/admin/customers/${northwind}/edit`)).status).toBe(403);
    expect((await support.agent.get(`/admin/customers/${northwind}/delete`)).status).toBe(403);
    expect((await support.agent.get(`/admin/customers/${northwind}/audit`)).status).toBe(403);
    const before = await customerCount();
    expect((await post(support, '/admin/customers', validCustomer())).status).toBe(403);
    expect((await post(support, `/admin/customers/${northwind}`, validCustomer())).status).toBe(403);
    expect(
      (await post(support, `/admin/customers/${northwind}/delete`, { confirm_title: 'Northwind Logistics' })).status,
    ).toBe(403);
    expect(await customerCount()).toBe(before);
  });

  it('refuses the customer administration to a company admin', async () => {
    const owner = await signedInAgent(app, 'owner@northwind.test');
    expect((await owner.agent.get('/admin/customers')).status).toBe(403);
    expect((await owner.agent.get(`/admin/customers/${northwind}`)).status).toBe(403);
  });

  it("answers 404 to another tenant's admin for every page of a Demo customer", async () => {
    const other = await signedInAgent(app, 'admin@other.test');
    for (const path of ['', '/edit', '/delete', '/audit']) {
      expect((await other.agent.get(`/admin/customers/${northwind}${path}`)).status).toBe(404);
    }
    expect(
      (await post(other, `/admin/customers/${northwind}/delete`, { confirm_title: 'Northwind Logistics' })).status,
    ).toBe(404);
    expect((await post(other, `/admin/customers/${northwind}`, validCustomer())).status).toBe(404);
    expect((await other.agent.get('/admin/customers')).text).not.toContain('Northwind');
  });

  it('answers 404 for a customer id that is not an id at all', async () => {
    expect((await admin.agent.get('/admin/customers/not-a-uuid')).status).toBe(404);
  });

  it('sends an anonymous visitor to sign in', async () => {
    const res = await supertest(app).get('/admin/customers?q=x');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fadmin%2Fcustomers%3Fq%3Dx');
  });
});
