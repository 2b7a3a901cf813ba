import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { unsubscribeToken } from '../../src/services/mail/notifications.js';
import { issueToken } from '../../src/services/platform/tokens.js';
import { csrfFrom, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeApiKey, makeCustomer, makeTenant, makeUser, TEST_PASSWORD } from '../support/factories.js';
import { crawlForms, type FormField, type FoundForm } from '../support/forms.js';
import { listRoutes } from '../support/routes.js';

/**
 * The hostile-input corpus over every form (issue 17): each form the app renders, found by signing
 * in as each kind of visitor and following the links, is posted as that visitor with a valid CSRF
 * token, once per hostile value in each of its fields and once per hostile shape of the whole form.
 * Nothing answers 5xx, and an input that is refused (4xx) writes nothing: the row count of every
 * table is what it was (sessions and rate-limit counters aside, which a refused sign-in may keep).
 */

const { db } = await testDatabase();
await seedDemo(db);
const clock = fixedClock('2026-11-24T09:00:00Z');
const { app, ctx } = testApp({ db, clock });
const routes = listRoutes(app);
const tenantId = demoId('tenant:demo');

const northwind = demoId('customer:northwind');
const bluewave = demoId('partner:bluewave');
const userId = (email: string) => demoId(`user:${email}`);

// ---- records in the states whose forms a page shows only then ----
const pending = await makeUser(
  db,
  { tenantId, role: 'group_supervisor', customerId: northwind },
  { status: 'pending', password_hash: null },
);
const throwaway = await makeUser(db, { tenantId, role: 'group_supervisor', customerId: northwind });
await makeUser(
  db,
  { tenantId, role: 'partner_viewer', partnerId: bluewave },
  { status: 'pending', password_hash: null },
);
const spare = await makeCustomer(db, tenantId, { title: 'Spare to delete' });
// a tenant whose first admin has not activated yet: the operator's list offers a new activation link
await makeUser(
  db,
  { tenantId: (await makeTenant(db, { name: 'Corpus Tenant' })).id, role: 'tenant_admin' },
  { status: 'pending', password_hash: null },
);
await makeApiKey(db, tenantId, { name: 'Corpus key' });
const [deadMail] = await db('outbox')
  .insert({
    tenant_id: tenantId,
    kind: 'test',
    recipient: 'x@example.test',
    subject: 'Dead',
    body_text: 'x',
    status: 'dead',
  })
  .returning('id');
// an import with problems: running it is refused (409), so the corpus never writes in the background
const [badImport] = await db('data_imports')
  .insert({
    tenant_id: tenantId,
    kind: 'locations',
    file_name: 'x.csv',
    content: 'x',
    total: 1,
    status: 'invalid',
    created_by_label: 'Corpus',
  })
  .returning('id');
const ticket = demoId('ticket:no-position');
await db('ticket_followers').insert({
  tenant_id: tenantId,
  ticket_id: ticket,
  user_id: userId('owner@northwind.test'),
});
await issueToken(db, { userId: userId('admin@demo.test'), tenantId, purpose: 'mobile_verification', now: clock.now() });
await issueToken(db, { userId: userId('sites@northwind.test'), tenantId, purpose: 'login_link', now: clock.now() });
const invoice = (await db('invoices').where({ tenant_id: tenantId, customer_id: northwind }).first('id')) as {
  id: string;
};
const assetIn = async (where: Record<string, unknown>) =>
  (
    (await db('assets')
      .where({ tenant_id: tenantId, customer_id: northwind, ...where })
      .orderBy('identifier')
      .first('id')) as { id: string }
  ).id;
const assetPages = [
  await assetIn({ status: 'inactive' }),
  await assetIn({ status: 'deactivation_pending' }),
  await assetIn({ status: 'active', renewal_unconfirmed: true }),
  await assetIn({ status: 'active' }),
].map((id) => `/assets/${id}`);
// a contact whose password staff set (the next sign-in must replace it) and a person with two roles
const mustChange = await makeUser(
  db,
  { tenantId, role: 'company_admin', customerId: northwind },
  { email: 'must@corpus.test' },
);
await db('users').where({ id: mustChange.id }).update({ must_change_password: true });
const twoRoles = await makeUser(
  db,
  { tenantId, role: 'company_admin', customerId: northwind },
  { email: 'two@corpus.test' },
);
await db('memberships').insert({
  tenant_id: tenantId,
  user_id: twoRoles.id,
  role: 'partner_viewer',
  partner_id: bluewave,
});

// a bulk action's preview, whose confirm form only its maker (Northwind's owner) is shown
const [bulkPreview] = await db('bulk_actions')
  .insert({
    tenant_id: tenantId,
    membership_id: db('memberships')
      .where({ tenant_id: tenantId, user_id: db('users').where({ email: 'owner@northwind.test' }).select('id') })
      .select('id')
      .limit(1),
    action: 'confirm-renewal',
    selection: 'Corpus selection',
    total: 1,
    ready: 1,
  })
  .returning('id');

const VISITORS = {
  tenant_admin: 'admin@demo.test',
  company_admin: 'owner@northwind.test',
  support_agent: 'support@demo.test',
  group_admin: 'fleet@northwind.test',
  group_supervisor: 'viewer@northwind.test',
  site_viewer: 'sites@northwind.test',
  partner_viewer: 'partner@bluewave.test',
  must_change: mustChange.email,
  two_roles: twoRoles.email,
  operator: 'operator@demo.test',
  anonymous: '',
} as const;
type Visitor = keyof typeof VISITORS;

// a form posted earlier may have changed a visitor's password (settings) or status: each visit puts them back
const logins = await db('users')
  .whereIn('email', Object.values(VISITORS))
  .select('email', 'password_hash', 'status', 'must_change_password');

/** A visitor's own client, signed in through the form (anonymous: just the sign-in page's token). */
async function visit(who: Visitor) {
  await db('rate_limits').del();
  const login = logins.find((l) => l.email === VISITORS[who]);
  if (login) await db('users').where({ email: login.email }).update(login);
  const agent = supertest.agent(app);
  let csrf = csrfFrom((await agent.get('/login')).text);
  let landing = '/login';
  if (who !== 'anonymous') {
    const password = who === 'must_change' || who === 'two_roles' ? TEST_PASSWORD : 'portico-demo';
    const res = await agent.post('/login').type('form').send({ email: VISITORS[who], password, _csrf: csrf });
    if (res.status !== 303) throw new Error(`${who} could not sign in (${res.status})`);
    landing = res.headers.location!;
    csrf = csrfFrom((await agent.get(landing).redirects(2)).text);
  }
  return { agent, csrf, landing };
}

// pages only a token opens: a pending person's activation, a reset, an email confirmation, an unsubscribe link
const now = clock.now();
const tokenPages = [
  `/activate/${(await issueToken(db, { userId: pending.id, tenantId, purpose: 'activation', now })).token}`,
  `/password/reset/${(await issueToken(db, { userId: throwaway.id, tenantId, purpose: 'password_reset', now })).token}`,
  `/settings/email-verification/${
    (await issueToken(db, { userId: throwaway.id, tenantId, purpose: 'email_verification', now })).token
  }`,
  `/unsubscribe/${unsubscribeToken(ctx.config.sessionSecret, throwaway.id, 'ticket_updates')}`,
];

/** Where each visitor starts: their landing page, then the pages whose forms need a record in a state. */
const START: Record<Visitor, string[]> = {
  tenant_admin: [
    `/admin/customers/${northwind}/billing`,
    `/admin/customers/${northwind}/billing/invoices/${invoice.id}`,
    `/admin/customers/${northwind}/users/${pending.id}`,
    `/admin/customers/${northwind}/users/${userId('sites@northwind.test')}`,
    `/admin/customers/${northwind}/users/${throwaway.id}/delete`,
    `/admin/customers/${spare.id}/delete`,
    `/admin/partners/${bluewave}`,
    // staff device management: registration, and an inactive and an active device (activate, deactivate)
    `/admin/customers/${northwind}/assets/new`,
    assetPages[0]!.replace('/assets/', `/admin/customers/${northwind}/assets/`),
    `${assetPages[3]!.replace('/assets/', `/admin/customers/${northwind}/assets/`)}/deactivation`,
    '/admin/api-keys',
    `/admin/mail/${(deadMail as { id: number }).id}`,
    '/settings/mobile',
    '/settings/two-factor',
  ],
  // a search for a device nobody registered offers the form that asks for it
  company_admin: [
    ...assetPages,
    `/users/${pending.id}`,
    `/tickets/${ticket}`,
    '/assets/request-activation?identifier=CORPUS-0001',
    `/assets/bulk/${(bulkPreview as { id: string }).id}`,
  ],
  support_agent: [],
  group_admin: [],
  group_supervisor: [],
  site_viewer: [],
  partner_viewer: [],
  must_change: ['/password/new'],
  two_roles: ['/session/membership'],
  operator: ['/operator/jobs', '/operator/mail'],
  anonymous: ['/login', '/password/forgot', ...tokenPages],
};

/** Routes no page shows a form for as the corpus visits them, posted where a page would: [visitor, path, fields]. */
const WITHOUT_A_FORM: Record<string, [Visitor, string, string[]]> = {
  // the run button shows only on a clean preview; this import has problems, so running it is refused (409)
  'POST /admin/imports/:id/run': ['tenant_admin', `/admin/imports/${(badImport as { id: string }).id}/run`, []],
  // the banner's End shows only during a view as someone; without one it has nothing to end (303 home)
  'POST /view-as/end': ['support_agent', '/view-as/end', []],
  // two-factor: the second step shows only to a sign-in waiting for its code, turning it off and staff's reset
  // only for a login that has it
  'POST /login/two-factor': ['anonymous', '/login/two-factor', ['code']],
  'POST /settings/two-factor/delete': ['tenant_admin', '/settings/two-factor/delete', ['password', 'code']],
  'POST /admin/customers/:id/users/:userId/two-factor/reset': [
    'tenant_admin',
    `/admin/customers/${northwind}/users/${throwaway.id}/two-factor/reset`,
    [],
  ],
};

/** Every form, with the first visitor (in VISITORS' order) who met it. */
const forms = new Map<string, FoundForm & { who: Visitor }>();
for (const who of Object.keys(VISITORS) as Visitor[]) {
  const { agent, landing } = await visit(who);
  // a second session of the same person, so that the sessions on /settings offer their "end" forms
  if (who !== 'anonymous') await visit(who);
  // the operator belongs to no tenant: no settings or help pages of a tenant's people
  const start =
    who === 'anonymous'
      ? START.anonymous
      : who === 'operator'
        ? [landing, ...START.operator]
        : [landing, ...START[who], '/settings', '/help'];
  for (const form of await crawlForms(agent, app, start))
    if (!forms.has(form.route)) forms.set(form.route, { ...form, who });
}
for (const [route, [who, action, names]] of Object.entries(WITHOUT_A_FORM))
  if (!forms.has(route))
    forms.set(route, {
      route,
      method: 'POST',
      action,
      page: action,
      multipart: false,
      fields: names.map((name) => ({ name, value: '', kind: 'text' })),
      who,
    });

describe('the forms the corpus reaches', () => {
  it('include a form for every POST route of the app', () => {
    const posts = routes.filter((r) => r.startsWith('POST ') && !r.startsWith('POST /api/'));
    expect(posts.filter((r) => !forms.has(r))).toEqual([]);
  });
});

// ---- the corpus ----

const TABLES: string[] = (
  await db.raw<{ rows: { table_name: string }[] }>(
    `select table_name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE'
        and table_name not in ('session', 'rate_limits', 'knex_migrations', 'knex_migrations_lock')
      order by 1`,
  )
).rows.map((r) => r.table_name);
const COUNT_SQL = `select ${TABLES.map((t) => `(select count(*) from "${t}")::int as "${t}"`).join(', ')}`;
const rowCounts = async (): Promise<Record<string, number>> => (await db.raw(COUNT_SQL)).rows[0];

/** JSON nested `depth` levels deep, built without recursion. */
const nested = (depth: number): unknown => {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? { a: v } : [v];
  return v;
};

/**
 * What a person would type into an empty field, by its name, so that a hostile value in one field is
 * the only thing wrong with a post (a form refused for an empty required field never reaches the
 * code that stores the hostile one).
 */
let typed = 0;
const TYPED: Record<string, () => string> = {
  title: () => `Corpus Customer ${++typed}`,
  account_id: () => `CORP-${++typed}`,
  name: () => `Corpus ${++typed}`,
  identifier: () => `CORPUS-${++typed}`,
  email: () => `corpus${++typed}@example.test`,
  contact_name: () => 'Corpus Contact',
  phone: () => '+44 20 7946 0000',
  address: () => '1 Corpus Street',
  reference: () => `REF-${++typed}`,
  reason: () => 'Corpus reason',
  service_name: () => `Corpus service ${++typed}`,
  subject: () => 'Corpus subject',
  message: () => 'Corpus message',
  body: () => 'Corpus comment',
  vehicle: () => 'CORPUS 1',
  started_at: () => '2026-11-20T08:00',
  ended_at: () => '2026-11-20T09:00',
  notes: () => 'Corpus notes',
  caption: () => 'Corpus caption',
  password: () => 'corpus-password-long-enough-1',
  passwordConfirm: () => 'corpus-password-long-enough-1',
  current: () => 'portico-demo',
  amount: () => '12.50',
  mobile: () => '+447700900123',
  code: () => '123456',
  unitPrice: () => '0.05',
  validFrom: () => '2026-11-01',
  repriceFrom: () => '2026-11-01',
  repriceTo: () => '2026-11-02',
  chat_url: () => 'https://chat.example.com/',
  geofence: () =>
    JSON.stringify({
      type: 'Polygon',
      coordinates: [
        [
          [-2.3, 53.47],
          [-2.299, 53.47],
          [-2.299, 53.471],
          [-2.3, 53.471],
          [-2.3, 53.47],
        ],
      ],
    }),
};
/** The field as a person would send it: what the page filled in, else what they would type or pick. */
const filled = (f: FormField): string =>
  f.value || (f.kind === 'choice' ? (f.options?.find((o) => o) ?? '') : (TYPED[f.name]?.() ?? ''));

type Payload = { label: string; json: boolean; value: unknown };
/** What goes into one field; a form cannot carry an unpaired surrogate or a non-string, so those go as JSON. */
const FIELD_PAYLOADS: Payload[] = [
  { label: 'a NUL', json: false, value: 'corpus\u0000text' },
  { label: 'an over-long text', json: false, value: 'x'.repeat(20_000) },
  { label: 'an unpaired surrogate', json: true, value: 'corpus\ud800text' },
  { label: 'an object', json: true, value: { text: 'corpus', nul: '\u0000' } },
];
/** What goes into every field at once. */
const FORM_PAYLOADS: Payload[] = [
  { label: 'every field sent twice', json: false, value: ['corpus', 'corpus\u0000'] },
  { label: 'numbers for every field', json: true, value: 1e308 },
  { label: 'deeply nested JSON in every field', json: true, value: nested(2000) },
  { label: 'a huge array in every field', json: true, value: Array.from({ length: 3000 }, (_, i) => `x${i}`) },
];

/** Posts the form as its visitor; a multipart form sends its fields as parts, with a file holding a NUL. */
function post(
  client: Awaited<ReturnType<typeof visit>>,
  form: FoundForm,
  body: Record<string, unknown>,
  json: boolean,
) {
  const req = client.agent
    .post(form.action)
    .set('X-CSRF-Token', client.csrf)
    .set('Accept', 'text/html')
    .ok(() => true);
  if (form.multipart && !json) {
    for (const [name, value] of Object.entries(body))
      for (const v of Array.isArray(value) ? value : [value]) req.field(name, String(v));
    for (const f of form.fields.filter((f) => f.kind === 'file'))
      req.attach(f.name, Buffer.from('identifier,latitude\ncorpus\u0000,1\n'), 'corpus.csv');
    return req;
  }
  return json ? req.send(body) : req.type('form').send(new URLSearchParams(flat(body)).toString());
}
const flat = (body: Record<string, unknown>): [string, string][] =>
  Object.entries(body).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, String(x)] as [string, string]));

/** Forms whose accepted post ends or switches the session: the next post needs a new sign-in. */
const SESSION_CHANGING = /^POST \/(logout|session\/membership|settings\/password|password\/|activate\/)/;

describe('the hostile-input corpus over every form', () => {
  it('answers no 5xx, and writes nothing when it refuses', async () => {
    const problems: string[] = [];
    let sent = 0;
    for (const form of [...forms.values()]
      .filter((f) => f.method === 'POST')
      .sort((a, b) => (a.route < b.route ? -1 : 1))) {
      let client = await visit(form.who);
      const base = Object.fromEntries(form.fields.filter((f) => f.kind !== 'file').map((f) => [f.name, filled(f)]));
      const editable = form.fields.filter((f) => f.kind !== 'file' && f.name !== '_csrf').map((f) => f.name);
      const cases: { label: string; json: boolean; body: Record<string, unknown> }[] = [
        ...editable.flatMap((name) =>
          FIELD_PAYLOADS.map((p) => ({
            label: `${p.label} in ${name}`,
            json: p.json,
            body: { ...base, [name]: p.value },
          })),
        ),
        ...FORM_PAYLOADS.map((p) => ({
          label: p.label,
          json: p.json,
          body: { ...base, ...Object.fromEntries(editable.map((name) => [name, p.value])), corpus_extra: p.value },
        })),
      ];
      let before = await rowCounts();
      for (const c of cases) {
        const res = await post(client, form, { ...c.body, _csrf: client.csrf }, c.json);
        sent++;
        const where = `${form.route} as ${form.who} with ${c.label}`;
        const after = await rowCounts();
        if (res.status >= 500) problems.push(`${where}: ${res.status}`);
        else if (res.status >= 400) {
          const changed = TABLES.filter((t) => after[t] !== before[t]);
          if (changed.length) problems.push(`${where}: refused with ${res.status} but wrote to ${changed.join(', ')}`);
        } else if (SESSION_CHANGING.test(form.route)) client = await visit(form.who);
        before = after;
      }
    }
    expect(problems).toEqual([]);
    expect(sent).toBeGreaterThan(500);
  }, 300_000);
});

describe('the hostile-input corpus over every search and filter', () => {
  it('answers every GET form with hostile values in each field without a 5xx', async () => {
    const problems: string[] = [];
    const values = ['corpus\u0000', 'x'.repeat(5000), '\ud800'];
    for (const form of [...forms.values()].filter((f) => f.method === 'GET')) {
      const { agent } = await visit(form.who);
      const base = Object.fromEntries(form.fields.map((f) => [f.name, filled(f)]));
      for (const field of form.fields)
        for (const value of values) {
          const query = new URLSearchParams({ ...base, [field.name]: value });
          query.append(field.name, 'twice');
          const res = await agent.get(`${form.action.split('?')[0]}?${query.toString()}`);
          if (res.status >= 500)
            problems.push(`${form.route} with ${JSON.stringify(value.slice(0, 10))} in ${field.name}: ${res.status}`);
        }
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
