import supertest from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { demoId, seedDemo } from '../../src/demo/data.js';
import { VIEW_AS_HIDDEN_PAGES } from '../../src/services/access/index.js';
import { csrfFrom, testApp } from '../support/app.js';
import { testDatabase } from '../support/db.js';
import { makeCustomer, makeGroup, makeUser } from '../support/factories.js';
import { listRoutes } from '../support/routes.js';

/**
 * The authorization matrix: every route of the app against every kind of visitor. A route that
 * is not in EXPECTED fails the test, so a new screen cannot ship without deciding who may use it.
 *   ok    answered for this visitor (2xx, a redirect that is not to sign-in, or 409/422 for a form)
 *   login sent to sign in
 *   401   the integration API: a session is not an API key
 *   403   signed in, but the role may not use the route
 *   404   the record is outside the visitor's reach (another tenant's)
 */
type Outcome = 'ok' | 'login' | 401 | 403 | 404;
const WHO = [
  'anonymous',
  'tenant_admin',
  'support_agent',
  'company_admin',
  'group_admin',
  'group_supervisor',
  'site_viewer',
  'partner_viewer',
  'other_tenant_admin',
  'operator',
] as const;
type Who = (typeof WHO)[number];

const LOGINS: Record<Exclude<Who, 'anonymous'>, string> = {
  tenant_admin: 'admin@demo.test',
  support_agent: 'support@demo.test',
  company_admin: 'owner@northwind.test',
  group_admin: 'fleet@northwind.test',
  group_supervisor: 'viewer@northwind.test',
  site_viewer: 'sites@northwind.test',
  partner_viewer: 'partner@bluewave.test',
  other_tenant_admin: 'admin@other.test',
  operator: 'operator@demo.test',
};

const everyone = (o: Outcome): Record<Who, Outcome> =>
  Object.fromEntries(WHO.map((w) => [w, o])) as Record<Who, Outcome>;

/** Signed-in only, open to the listed visitors; 403 for the other signed-in ones. */
function only(allowed: Who[], overrides: Partial<Record<Who, Outcome>> = {}): Record<Who, Outcome> {
  const row = Object.fromEntries(
    WHO.map((w) => [w, w === 'anonymous' ? 'login' : allowed.includes(w) ? 'ok' : 403]),
  ) as Record<Who, Outcome>;
  return { ...row, ...overrides };
}

const STAFF: Who[] = ['tenant_admin', 'support_agent', 'other_tenant_admin'];
const TENANT_ADMINS: Who[] = ['tenant_admin', 'other_tenant_admin'];
/** customer people who see assets, and those of them who may act on them */
const CUSTOMER_VIEWERS: Who[] = ['company_admin', 'group_admin', 'group_supervisor'];
const CUSTOMER_ACTORS: Who[] = ['company_admin', 'group_admin'];
const ALL_SIGNED_IN: Who[] = WHO.filter((w) => w !== 'anonymous');
/** everyone signed in but the deployment operator, who belongs to no tenant and has none of a tenant's pages */
const TENANT_PEOPLE: Who[] = ALL_SIGNED_IN.filter((w) => w !== 'operator');
/** Staff of the other tenant reach no Demo record: 404 where a tenant admin would be answered. */
const demoRecord = { other_tenant_admin: 404 as Outcome };

const EXPECTED: Record<string, Record<Who, Outcome>> = {
  'GET /healthz': everyone('ok'),
  'GET /readyz': everyone('ok'),
  'GET /favicon.ico': everyone('ok'),
  'GET /login': everyone('ok'),
  'POST /login': everyone('ok'),
  'POST /logout': everyone('ok'),
  'GET /': only(ALL_SIGNED_IN),
  'GET /password/forgot': everyone('ok'),
  'POST /password/forgot': everyone('ok'),
  // a made-up token is unknown to everyone; who may use a real one is the token's business
  'GET /password/reset/:token': everyone(404),
  'POST /password/reset/:token': everyone(404),
  'GET /activate/:token': everyone(404),
  'POST /activate/:token': everyone(404),

  'GET /settings': only(TENANT_PEOPLE),
  // two-factor sign-in: every login with a password, the operator too; the second step is open to everyone
  // like /login, and sends anyone without a sign-in waiting for its code back to the password
  'GET /settings/two-factor': only(ALL_SIGNED_IN),
  'POST /settings/two-factor': only(ALL_SIGNED_IN),
  'POST /settings/two-factor/delete': only(ALL_SIGNED_IN),
  'GET /login/two-factor': everyone('ok'),
  'POST /login/two-factor': everyone('ok'),
  'POST /admin/settings/two-factor': only(TENANT_ADMINS),
  'GET /admin/customers/:id/users/:userId/two-factor': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/users/:userId/two-factor/reset': only(TENANT_ADMINS, demoRecord),
  // anyone signed in may choose among their own roles (a made-up membership is 404: see the switching test)
  'GET /session/membership': only(TENANT_PEOPLE),
  'POST /session/membership': only([], Object.fromEntries(TENANT_PEOPLE.map((w) => [w, 404]))),
  'POST /settings/profile': only(TENANT_PEOPLE),
  'POST /settings/password': only(TENANT_PEOPLE),
  'POST /settings/other-sessions/delete': only(TENANT_PEOPLE),
  'POST /settings/notifications': only(TENANT_PEOPLE),
  // one-click unsubscribe: authorized by its signed link alone; a made-up link is unknown to everyone
  'GET /unsubscribe/:token': everyone(404),
  'POST /unsubscribe/:token': everyone(404),
  // nobody's session has that id: signed-in visitors get 404, never someone else's session
  'POST /settings/sessions/:sid/delete': only([], Object.fromEntries(TENANT_PEOPLE.map((w) => [w, 404]))),

  'GET /admin/customers': only(STAFF),
  'GET /admin/customers/new': only(TENANT_ADMINS),
  'POST /admin/customers': only(TENANT_ADMINS),
  'GET /admin/customers/:id': only(STAFF, demoRecord),
  'GET /admin/customers/:id/edit': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/delete': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/delete': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/audit': only(TENANT_ADMINS, demoRecord),
  // support agents read a customer's users (and start "view as" there); tenant admins also change them
  'GET /admin/customers/:id/users': only(STAFF, demoRecord),
  'GET /admin/customers/:id/audit.csv': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/users/new': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/users': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/users/:userId': only(STAFF, demoRecord),
  // "view as" (issue 21): staff start a read-only view as the matrix's user; anyone signed in may end theirs
  'POST /admin/customers/:id/users/:userId/view-as': only(STAFF, demoRecord),
  'POST /view-as/end': only(ALL_SIGNED_IN),
  'GET /admin/customers/:id/users/:userId/edit': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/users/:userId': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/users/:userId/activation-email': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/users/:userId/activation-link': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/users/:userId/delete': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/users/:userId/delete': only(TENANT_ADMINS, demoRecord),
  // "End all sessions": the confirmation for the matrix's user, the ending itself for a throwaway user
  'GET /admin/customers/:id/users/:userId/sessions/delete': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/users/:userId/sessions/delete': only(TENANT_ADMINS, demoRecord),
  'GET /admin/mail': only(TENANT_ADMINS),
  'GET /admin/mail/:id': only(TENANT_ADMINS, demoRecord),
  // the Demo message is kept, not dead: a tenant admin of Demo gets 409, which counts as answered
  'POST /admin/mail/:id/retry': only(TENANT_ADMINS, demoRecord),
  // what the jobs did for their own tenant, read only; the jobs themselves and "Run now" are the operator's
  'GET /admin/jobs': only(TENANT_ADMINS),
  'GET /admin/audit': only(TENANT_ADMINS),
  'GET /admin/audit.jsonl': only(TENANT_ADMINS),

  'GET /assets/:id': only(CUSTOMER_VIEWERS),
  'GET /assets/by-identifier/:identifier': only(CUSTOMER_VIEWERS),
  'GET /assets/request-activation': only(CUSTOMER_ACTORS),
  'POST /assets/request-activation': only(CUSTOMER_ACTORS),
  'POST /assets/:id/activation-request': only(CUSTOMER_ACTORS),
  'POST /assets/:id/renewal-confirmation': only(CUSTOMER_ACTORS),
  'GET /assets/:id/deactivation-request': only(CUSTOMER_ACTORS),
  'POST /assets/:id/deactivation-request': only(CUSTOMER_ACTORS),
  'POST /assets/:id/deactivation-request/cancel': only(CUSTOMER_ACTORS),
  'POST /assets/:id/group': only(CUSTOMER_ACTORS),
  // bulk actions (issue 22): a bulk action is its maker's alone, so a made-up one is not found even for them
  'POST /assets/bulk': only(CUSTOMER_ACTORS),
  'GET /assets/bulk/:id': only(CUSTOMER_ACTORS, { company_admin: 404, group_admin: 404 }),
  'POST /assets/bulk/:id': only(CUSTOMER_ACTORS, { company_admin: 404, group_admin: 404 }),
  'GET /assets/bulk/:id.csv': only(CUSTOMER_ACTORS, { company_admin: 404, group_admin: 404 }),
  'GET /admin/requests': only(STAFF),
  'POST /admin/requests/:id/approval': only(STAFF, demoRecord),
  'POST /admin/requests/:id/rejection': only(STAFF, demoRecord),
  'POST /admin/requests/:id/application': only(STAFF, demoRecord),
  'GET /assets': only(CUSTOMER_VIEWERS),
  'GET /assets.csv': only(CUSTOMER_VIEWERS),
  'GET /admin/customers/:id/assets': only(STAFF, demoRecord),
  'GET /admin/customers/:id/assets.csv': only(STAFF, demoRecord),
  // staff device management (issue 22): support agents see a device's page, tenant admins change it.
  // Empty forms are refused with 422; activating the active Trucks asset with 409; a deactivation
  // without the confirmation page's field shows that page (422): the matrix changes no asset
  'GET /admin/customers/:id/assets/new': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/assets': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/assets/:assetId': only(STAFF, demoRecord),
  'POST /admin/customers/:id/assets/:assetId': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/assets/:assetId/group': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/assets/:assetId/activation': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/assets/:assetId/deactivation': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/assets/:assetId/deactivation': only(TENANT_ADMINS, demoRecord),
  // the devices map switch: an empty form is refused with 422, so the demo's map stays on
  'POST /admin/customers/:id/map': only(TENANT_ADMINS, demoRecord),

  // groups: everyone who sees assets sees their groups; only company admins change groups or their people
  'GET /groups': only(CUSTOMER_VIEWERS),
  'GET /groups/new': only(['company_admin']),
  'POST /groups': only(['company_admin']),
  'GET /groups/:id': only(CUSTOMER_VIEWERS),
  'GET /groups/:id.csv': only(CUSTOMER_VIEWERS),
  'GET /groups/:id/edit': only(['company_admin']),
  'POST /groups/:id': only(['company_admin']),
  'POST /groups/:id/users': only(['company_admin']),
  'GET /groups/:id/user-options': only(['company_admin']),
  // Northwind's map is switched on in the demo
  'GET /groups/:id/map': only(CUSTOMER_VIEWERS),
  'GET /groups/:id/map.json': only(CUSTOMER_VIEWERS),

  'GET /users': only(['company_admin']),
  'GET /users/new': only(['company_admin']),
  'POST /users': only(['company_admin']),
  'GET /users/:id': only(['company_admin']),
  'POST /users/:id': only(['company_admin']),
  'POST /users/:id/activation-email': only(['company_admin']),
  'POST /users/:id/activation-link': only(['company_admin']),

  // API keys are the tenant admin's; the API itself takes only a key, never a session
  'GET /admin/api-keys': only(TENANT_ADMINS),
  'POST /admin/api-keys': only(TENANT_ADMINS),
  'GET /admin/api-keys/:id/revoke': only(TENANT_ADMINS, demoRecord),
  'POST /admin/api-keys/:id/revoke': only(TENANT_ADMINS, demoRecord),
  'GET /api/v1/openapi.json': everyone('ok'),
  'GET /api/v1/key': everyone(401),
  // ---- tickets, call data records, help, provider settings, imports (issue 7) ----
  // the demo ticket is about a Trucks unit: every customer viewer reaches it; read-only roles write nothing
  'GET /tickets': only(CUSTOMER_VIEWERS),
  'GET /tickets/new': only(CUSTOMER_ACTORS),
  'POST /tickets': only(CUSTOMER_ACTORS),
  'GET /tickets/:id': only(CUSTOMER_VIEWERS),
  'POST /tickets/:id/comments': only(CUSTOMER_ACTORS),
  'POST /tickets/:id/following': only(['company_admin']),
  'POST /tickets/:id/following/delete': only(['company_admin']),
  'GET /admin/tickets': only(STAFF),
  'GET /admin/tickets/:id': only(STAFF, demoRecord),
  // an empty reply is refused with 422, so the demo thread stays as it is
  'POST /admin/tickets/:id/comments': only(STAFF, demoRecord),
  'GET /assets/:id/call-records': only(CUSTOMER_VIEWERS),
  'GET /assets/:id/call-records.csv': only(CUSTOMER_VIEWERS),
  'GET /help': only(TENANT_PEOPLE),
  'GET /admin/settings': only(TENANT_ADMINS),
  // an empty form clears the links: allowed, and harmless to the other rows
  'POST /admin/settings/help-links': only(TENANT_ADMINS),

  // ---- partners and the partner view ----
  // tenant admins set partners, products and prices up; partner viewers only read
  // empty forms are refused with 422 (answered); removing an assignment uses Harbor, assigned to Bluewave for the visit
  'GET /admin/partners': only(TENANT_ADMINS),
  'POST /admin/partners': only(TENANT_ADMINS),
  'GET /admin/partners/:id': only(TENANT_ADMINS, demoRecord),
  'POST /admin/partners/:id/customers': only(TENANT_ADMINS, demoRecord),
  'POST /admin/partners/:id/customers/:customerId/delete': only(TENANT_ADMINS, demoRecord),
  'GET /admin/partners/:id/users/new': only(TENANT_ADMINS, demoRecord),
  'POST /admin/partners/:id/users': only(TENANT_ADMINS, demoRecord),
  // Bluewave's partner viewer is active: a new link is refused with 409 (answered)
  'POST /admin/partners/:id/users/:userId/activation-email': only(TENANT_ADMINS, demoRecord),
  'POST /admin/partners/:id/users/:userId/activation-link': only(TENANT_ADMINS, demoRecord),
  // Harbor's products and prices, so the visits change nothing Northwind's partner view shows
  'GET /admin/customers/:id/products': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/products': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/price-lists': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/usage-pricing': only(TENANT_ADMINS, demoRecord),
  // Northwind (assigned to Bluewave) and its SMS (enabled)
  'GET /partner/customers': only(['partner_viewer']),
  'GET /partner/customers/:id': only(['partner_viewer']),
  'GET /partner/customers/:id/usage/:product': only(['partner_viewer']),
  'GET /partner/customers/:id/usage/:product.csv': only(['partner_viewer']),
  // the ingestion API takes a key, never a session
  'POST /api/v1/locations': everyone(401),
  'POST /api/v1/usage-records': everyone(401),
  // an empty upload is refused with 422; running an import with problems is refused with 409
  'GET /admin/imports': only(TENANT_ADMINS),
  'POST /admin/imports': only(TENANT_ADMINS),
  'GET /admin/imports/:id': only(TENANT_ADMINS, demoRecord),
  'POST /admin/imports/:id/run': only(TENANT_ADMINS, demoRecord),
  // ---- call summaries and invoices (issue 10, second half) ----
  // tenant admins for any customer; a company admin for their own account,
  // invoices once issued (the demo's Northwind invoice is issued). Empty forms are refused with 422.
  'GET /admin/customers/:id/billing/summaries': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/billing/summaries.csv': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/billing/invoices': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/billing/invoices': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/billing/invoices/:invoiceId': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/billing/invoices/:invoiceId.csv': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/billing/invoices/:invoiceId/status': only(TENANT_ADMINS, demoRecord),
  'GET /billing/summaries': only(['company_admin']),
  'GET /billing/summaries.csv': only(['company_admin']),
  'GET /billing/invoices': only(['company_admin']),
  'GET /billing/invoices/:invoiceId': only(['company_admin']),
  'GET /billing/invoices/:invoiceId.csv': only(['company_admin']),
  'GET /api/v1/invoices': everyone(401),
  // ---- sites, Live View and login via link: site viewers see their sites; staff manage them ----
  'GET /sites': only(['site_viewer']),
  'GET /sites/:id': only(['site_viewer']),
  'GET /sites/:id/services': only(['site_viewer']),
  'GET /sites/:id/vehicle-visits': only(['site_viewer']),
  'GET /sites/:id/pictures': only(['site_viewer']),
  'GET /sites/:id/pictures/:pictureId': only(['site_viewer']),
  // a made-up login link is unknown to everyone
  'GET /link/:token': everyone(404),
  // every tenant's staff see their own sites list; the Demo site is not the other tenant's
  'GET /admin/sites': only(STAFF),
  'GET /admin/sites/new': only(TENANT_ADMINS),
  'POST /admin/sites': only(TENANT_ADMINS),
  'POST /admin/services': only(TENANT_ADMINS),
  'GET /admin/sites/:id': only(STAFF, demoRecord),
  'GET /admin/sites/:id/edit': only(TENANT_ADMINS, demoRecord),
  'POST /admin/sites/:id': only(TENANT_ADMINS, demoRecord),
  'POST /admin/sites/:id/visits': only(TENANT_ADMINS, demoRecord),
  'POST /admin/sites/:id/pictures': only(TENANT_ADMINS, demoRecord),
  'GET /admin/sites/:id/pictures/:pictureId': only(STAFF, demoRecord),
  // an empty form would switch Northwind's portal off: that one posts to a spare customer
  'GET /admin/customers/:id/portal-access': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/portal-access': only(TENANT_ADMINS, demoRecord),
  // the matrix's user is a group supervisor: a site viewer's sites and link are refused with 409, which
  // counts as answered
  'POST /admin/customers/:id/users/:userId/sites': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/users/:userId/login-link': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/users/:userId/login-link/delete': only(TENANT_ADMINS, demoRecord),
  'POST /api/v1/service-visits': everyone(401),

  // ---- telecom accounts (issue 10): the Billing tab, contacts, number blocks, /billing ----
  // billing is the tenant admin's: support agents have none (DESIGN.md section 1)
  'GET /admin/customers/:id/billing': only(TENANT_ADMINS, demoRecord),
  // empty forms: refused with 422 (debit limit, ledger), changing nothing
  'POST /admin/customers/:id/billing/debit-limit': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/billing/ledger': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/billing/model': only(TENANT_ADMINS, demoRecord),
  // "+" assigns a real block from the demo range (its 100 blocks outlast the matrix)
  'POST /admin/customers/:id/billing/number-blocks': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/billing/number-blocks/:blockId/release': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/billing/number-blocks/:blockId/release': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/billing/contacts/new': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/billing/contacts': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/billing/contacts/:userId/edit': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/billing/contacts/:userId': only(TENANT_ADMINS, demoRecord),
  'GET /admin/customers/:id/billing/contacts/:userId/password': only(TENANT_ADMINS, demoRecord),
  'POST /admin/customers/:id/billing/contacts/:userId/password': only(TENANT_ADMINS, demoRecord),
  // an empty form: refused with 422, the demo range stays
  'POST /admin/settings/number-range': only(TENANT_ADMINS),
  'POST /admin/settings/over-limit': only(TENANT_ADMINS),

  // ---- the deployment operator (issue 16): its pages answer 403 to every tenant role ----
  // empty forms are refused with 422 (answered): no tenant is made, none disabled
  'GET /operator/tenants': only(['operator']),
  'POST /operator/tenants': only(['operator']),
  'POST /operator/tenants/:id/status': only(['operator']),
  // the Demo tenant's admin is active: a new link is refused with 409 (answered)
  'POST /operator/tenants/:id/admins/:userId/activation-link': only(['operator']),
  'GET /operator/jobs': only(['operator']),
  'POST /operator/jobs/:name/run': only(['operator']),
  'GET /operator/mail': only(['operator']),
  'GET /operator/mail/:id': only(['operator']),
  // the account is the whole customer's: its company admins only
  'GET /billing': only(['company_admin']),
  'GET /usage': only(['company_admin']),
  'GET /usage.csv': only(['company_admin']),
  // a person without a staff-set password is sent on to their landing page
  'GET /password/new': only(ALL_SIGNED_IN),
  'POST /password/new': only(ALL_SIGNED_IN),
  // everyone confirms their own email and mobile; the mailed link alone authorizes its confirmation
  'POST /settings/email-verification': only(TENANT_PEOPLE),
  'GET /settings/email-verification/:token': everyone('ok'),
  'POST /settings/email-verification/:token': everyone(404),
  'GET /settings/mobile': only(TENANT_PEOPLE),
  'POST /settings/mobile': only(TENANT_PEOPLE),
  'POST /settings/mobile/verification': only(TENANT_PEOPLE),
};

const { db } = await testDatabase();
await seedDemo(db);
const clock = fixedClock('2026-11-24T09:00:00Z');
const { app } = testApp({ db, clock });
const tenantId = demoId('tenant:demo');
const demoAdmin = demoId('user:admin@demo.test');
const northwind = demoId('customer:northwind');
const harbor = demoId('customer:harbor');
const bluewave = demoId('partner:bluewave');
const [demoMail] = await db('outbox')
  .insert({
    tenant_id: tenantId,
    kind: 'test',
    recipient: 'owner@northwind.test',
    subject: 'Hello',
    body_text: 'Hello',
    status: 'kept',
  })
  .returning('id');
const demoMailId = String((demoMail as { id: number }).id);
// a Trucks asset: in reach of Northwind's company admin and of the Trucks group admin and supervisor
const truck = (await db('assets')
  .where({ tenant_id: tenantId, group_id: demoId('group:trucks'), status: 'active' })
  .orderBy('identifier')
  .first('id', 'identifier')) as { id: string; identifier: string };
const [demoKey] = await db('api_keys')
  .insert({
    tenant_id: tenantId,
    name: 'Matrix key',
    key_hash: Buffer.alloc(32, 7),
    key_prefix: 'pk_matrix',
    created_by_label: 'test',
  })
  .returning('id');
const demoKeyId = (demoKey as { id: string }).id;
// an import with a problem: running it is refused with 409 (answered), so the matrix never writes its rows
const demoImportId = String(
  (
    (
      await db('data_imports')
        .insert({
          tenant_id: tenantId,
          kind: 'locations',
          file_name: 'matrix.csv',
          content: 'x',
          total: 1,
          status: 'invalid',
          created_by_label: 'Matrix',
        })
        .returning('id')
    )[0] as { id: string }
  ).id,
);
const demoInvoice = (await db('invoices')
  .where({ tenant_id: tenantId, customer_id: northwind, status: 'issued' })
  .first('id')) as { id: string };
const demoSite = demoId('site:trafford');
const demoSitePicture = (await db('pictures')
  .where({ tenant_id: tenantId, site_id: demoSite })
  .whereNull('visit_id')
  .first('id')) as { id: string };
const spareCustomer = await makeCustomer(db, tenantId, { title: 'Spare for portal access' });
let throwawayBlocks = 0;
const demoBlock = (await db('number_blocks')
  .where({ tenant_id: tenantId, customer_id: northwind })
  .whereNull('released_at')
  .first('id')) as { id: number };
const pendingRequest = (await db('asset_requests')
  .where({ tenant_id: tenantId, state: 'pending' })
  .orderBy('requested_at')
  .first('id')) as { id: string };

/** Concrete URLs: ids of Demo records, or a fresh throwaway record for irreversible actions. */
async function concretePath(route: string): Promise<string> {
  const [method, path] = route.split(' ') as [string, string];
  // disabling a login link is undone by enabling a new one: it needs no throwaway user
  const destructive = method === 'POST' && /\/delete$/.test(path) && !path.endsWith('/login-link/delete');
  let customerId = northwind;
  let userId = demoId('user:viewer@northwind.test');
  if (destructive && path.includes(':userId'))
    userId = (await makeUser(db, { tenantId, role: 'group_supervisor', customerId: northwind })).id;
  else if (destructive && path.startsWith('/admin/customers/:id')) customerId = (await makeCustomer(db, tenantId)).id;
  if (method === 'POST' && path === '/admin/customers/:id/portal-access') customerId = spareCustomer.id;
  // Trucks, reached by the group admin and supervisor; an empty users form would empty a group, so that
  // one gets a throwaway sub-group
  let groupId = demoId('group:trucks');
  if (method === 'POST' && path === '/groups/:id/users')
    groupId = (await makeGroup(db, { id: northwind, tenant_id: tenantId }, { parent: { id: groupId, path: 'Trucks' } }))
      .id;
  if (method === 'POST' && /^\/admin\/customers\/:id\/(products|price-lists|usage-pricing)$/.test(path))
    customerId = harbor;
  if (path === '/admin/partners/:id/customers/:customerId/delete')
    await db('customers').where({ tenant_id: tenantId, id: harbor }).update({ partner_id: bluewave });
  // releasing a block is for good: each visit releases a throwaway block of Northwind's
  let blockId = demoBlock.id;
  if (method === 'POST' && path.includes(':blockId')) {
    blockId = (
      (
        await db('number_blocks')
          .insert({
            tenant_id: tenantId,
            customer_id: northwind,
            first_number: 900000 + ++throwawayBlocks * 10,
            last_number: 900009 + throwawayBlocks * 10,
          })
          .returning('id')
      )[0] as { id: number }
    ).id;
  }
  return path
    .replace('/groups/:id', `/groups/${groupId}`)
    .replace('/admin/mail/:id', `/admin/mail/${demoMailId}`)
    .replace('/operator/jobs/:name', '/operator/jobs/expire-tokens')
    .replace('/operator/mail/:id', `/operator/mail/${demoMailId}`)
    .replace('/operator/tenants/:id/admins/:userId', `/operator/tenants/${tenantId}/admins/${demoAdmin}`)
    .replace('/operator/tenants/:id', `/operator/tenants/${tenantId}`)
    .replace('/admin/requests/:id', `/admin/requests/${pendingRequest.id}`)
    .replace('/admin/api-keys/:id', `/admin/api-keys/${demoKeyId}`)
    .replace('/assets/bulk/:id', '/assets/bulk/00000000-0000-4000-8000-000000000022')
    .replace('/assets/by-identifier/:identifier', `/assets/by-identifier/${truck.identifier}`)
    .replace('/assets/:id', `/assets/${truck.id}`)
    .replace('/tickets/:id', `/tickets/${demoId('ticket:no-position')}`)
    .replace('/admin/imports/:id', `/admin/imports/${demoImportId}`)
    .replace(':blockId', String(blockId))
    .replace(':assetId', truck.id)
    .replace('/admin/customers/:id', `/admin/customers/${customerId}`)
    .replace(
      '/admin/partners/:id/users/:userId',
      `/admin/partners/${bluewave}/users/${demoId('user:partner@bluewave.test')}`,
    )
    .replace(':userId', userId)
    .replace('/admin/partners/:id', `/admin/partners/${bluewave}`)
    .replace(':customerId', harbor)
    .replace('/partner/customers/:id', `/partner/customers/${northwind}`)
    .replace(':product', 'sms')
    .replace('/users/:id', `/users/${userId}`)
    .replace(/\/sites\/:id/, `/sites/${demoSite}`)
    .replace(':pictureId', demoSitePicture.id)
    .replace(/:token\b/, 'x'.repeat(43))
    .replace(/:sid\b/, 'no-such-session')
    .replace(':invoiceId', demoInvoice.id)
    .replace(/:id\b/, '1');
}

/** What a missing or wrong CSRF token answers (403 with this message), unlike a role's refusal (403, another one). */
const CSRF_REFUSAL = 'The form was out of date. Reload the page and try again.';

/**
 * A visitor that the matrix says the route answers: one who may use it, else one who gets a 404 (a made-up
 * token or record), preferring people signed in; never one refused with 403 or sent to sign in.
 */
function visitorAnsweredOn(route: string): Who {
  const row = EXPECTED[route]!;
  const order = [...WHO.filter((w) => w !== 'anonymous'), 'anonymous' as const];
  const who = order.find((w) => row[w] === 'ok') ?? order.find((w) => row[w] === 404);
  if (!who) throw new Error(`no visitor is answered on ${route}`);
  return who;
}

type Client = { agent: ReturnType<typeof supertest.agent>; csrf: string };

/** A visitor's own client: signed in through the form (anonymous: only the sign-in page's token). */
async function signInAs(who: Who): Promise<Client> {
  const agent = supertest.agent(app);
  const login = await agent.get('/login');
  let csrf = csrfFrom(login.text);
  if (who !== 'anonymous') {
    const res = await agent
      .post('/login')
      .type('form')
      .send({ email: LOGINS[who], password: 'portico-demo', _csrf: csrf });
    if (res.status !== 303) throw new Error(`${who} could not sign in (${res.status})`);
    csrf = csrfFrom((await agent.get('/login').redirects(2)).text);
  }
  return { agent, csrf };
}

/**
 * GET routes change nothing, so each visitor keeps one signed-in client for all of them; every POST gets
 * a fresh sign-in.
 */
const kept = new Map<Who, Promise<Client>>();
const clientFor = (who: Who, method: string) =>
  method === 'GET' ? (kept.get(who) ?? kept.set(who, signInAs(who)).get(who)!) : signInAs(who);

async function visit(who: Who, route: string): Promise<{ outcome: Outcome | number; status: number }> {
  const [method, template] = route.split(' ') as [string, string];
  const { agent, csrf } = await clientFor(who, method);
  const path = await concretePath(route);
  const res = method === 'GET' ? await agent.get(path) : await agent.post(path).type('form').send({ _csrf: csrf });
  const toLogin =
    res.status === 303 &&
    String(res.headers.location).startsWith('/login') &&
    template !== '/logout' &&
    template !== '/login' &&
    // open to everyone, like /login: without a sign-in waiting for its code, it sends back to the password
    template !== '/login/two-factor';
  if (toLogin) return { outcome: 'login', status: res.status };
  if (res.status === 403 || res.status === 404) return { outcome: res.status, status: res.status };
  if (res.status < 400 || res.status === 409 || res.status === 422 || res.status === 429)
    return { outcome: 'ok', status: res.status };
  return { outcome: res.status, status: res.status };
}

describe('authorization matrix', () => {
  let routes: string[];
  beforeAll(() => {
    routes = listRoutes(app);
  });

  it('has an expected row for every route the app answers', () => {
    const missing = routes.filter((r) => !EXPECTED[r]);
    expect(missing, 'routes missing from the authorization matrix').toEqual([]);
    const stale = Object.keys(EXPECTED).filter((r) => !routes.includes(r));
    expect(stale, 'matrix rows for routes that no longer exist').toEqual([]);
  });

  it('answers every route for every visitor as the matrix expects', async () => {
    const mismatches: string[] = [];
    for (const route of routes) {
      const expected = EXPECTED[route];
      if (!expected) continue;
      // made-up tokens count against the address: start each route afresh
      await db('rate_limits').del();
      clock.advance(60_000);
      // the visitors of a GET route at once (GETs change nothing); a POST's one after another
      const visits = route.startsWith('GET ')
        ? await Promise.all(WHO.map(async (who) => ({ who, ...(await visit(who, route)) })))
        : await WHO.reduce<Promise<{ who: Who; outcome: Outcome | number; status: number }[]>>(
            async (done, who) => [...(await done), { who, ...(await visit(who, route)) }],
            Promise.resolve([]),
          );
      for (const { who, outcome, status } of visits) {
        if (outcome !== expected[who])
          mismatches.push(`${route} as ${who}: expected ${expected[who]}, got ${outcome} (HTTP ${status})`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 600_000);

  it('answers a view-as session every page as for the person viewed, and refuses every unsafe route', async () => {
    // support views as Northwind's company admin, who may do far more than support may
    const { agent, csrf: staffCsrf } = await signInAs('support_agent');
    const owner = demoId('user:owner@northwind.test');
    const start = await agent
      .post(`/admin/customers/${northwind}/users/${owner}/view-as`)
      .type('form')
      .send({ _csrf: staffCsrf });
    expect(start.status).toBe(303);
    const csrf = csrfFrom((await agent.get('/settings')).text);
    const mismatches: string[] = [];
    for (const route of routes) {
      const [method, template] = route.split(' ') as [string, string];
      await db('rate_limits').del();
      const path = await concretePath(route);
      if (method === 'GET') {
        const res = await agent.get(path);
        const outcome =
          res.status === 403 || res.status === 404 ? res.status : res.status < 400 || res.status === 409 ? 'ok' : 0;
        // the login's own pages beyond this account (the person's other memberships) are refused
        const expected = VIEW_AS_HIDDEN_PAGES.includes(template) ? 403 : EXPECTED[route]!.company_admin;
        if (outcome !== expected && !template.startsWith('/api/'))
          mismatches.push(`${route}: ${res.status}, expected ${expected}`);
        continue;
      }
      if (template === '/view-as/end' || template === '/logout') continue;
      const res = await agent[method.toLowerCase() as 'post'](path).type('form').send({ _csrf: csrf });
      // the integration API takes keys, never a session
      const expected = template.startsWith('/api/') ? 401 : 403;
      if (res.status !== expected) mismatches.push(`${route}: ${res.status}, expected ${expected}`);
    }
    expect(mismatches).toEqual([]);
    // still viewing after all that, and nothing was written as the person
    expect((await agent.get('/settings')).text).toContain('Viewing as');
  }, 300_000);

  it('refuses a partner viewer every unsafe request but those on their own account', () => {
    // ending one's own view as someone ("view as") is about one's own session too
    const ownAccount = /^POST \/(login|logout|view-as\/end|settings\/|password\/|activate\/|unsubscribe\/)/;
    const allowed = routes.filter(
      (r) => !r.startsWith('GET ') && !ownAccount.test(r) && EXPECTED[r]?.partner_viewer === 'ok',
    );
    expect(allowed, 'unsafe routes a partner viewer may use').toEqual([]);
  });

  it('refuses every form post without the CSRF token, or with a wrong one, as a visitor allowed on it', async () => {
    const tables = ['customers', 'users', 'memberships', 'audit_log', 'outbox', 'user_tokens'];
    const counts = async () => Promise.all(tables.map(async (t) => Number((await db(t).count({ n: '*' }).first())!.n)));
    const before = await counts();
    const refused: string[] = [];
    // one-click unsubscribe is exempt by design (mail programs post it without a session); its link authorizes it
    // the integration API authenticates by key, not by session, so it has no CSRF token to check
    const exempt = ['POST /unsubscribe/:token'];
    for (const route of routes.filter(
      (r) => r.startsWith('POST ') && !exempt.includes(r) && !r.startsWith('POST /api/'),
    )) {
      await db('rate_limits').del();
      // a visitor the route would answer: then a 403 can only be the token's refusal, never the role's
      const who = visitorAnsweredOn(route);
      const path = await concretePath(route);
      const { agent } = await signInAs(who);
      const noToken = await agent
        .post(path)
        .type('form')
        .send({ title: 'x', name: 'x', confirm_title: 'Northwind Logistics' });
      const wrongToken = await agent.post(path).set('X-CSRF-Token', 'wrong').type('form').send({ _csrf: 'wrong' });
      for (const [how, res] of [
        ['no token', noToken],
        ['a wrong token', wrongToken],
      ] as const) {
        if (res.status !== 403 || !res.text.includes(CSRF_REFUSAL))
          refused.push(
            `${route} as ${who} with ${how}: ${res.status} ${res.status === 403 ? '(not the CSRF page)' : ''}`,
          );
      }
    }
    expect(refused, 'POST routes that did not refuse a missing or wrong token with the CSRF answer').toEqual([]);
    const after = await counts();
    // concretePath made throwaway records for the delete routes (a user for each of the two under a user:
    // deleting them and ending their sessions); nothing else may have changed
    expect(after.map((n, i) => n - before[i]!)).toEqual(
      tables.map((t) => (t === 'customers' ? 1 : t === 'users' || t === 'memberships' ? 2 : 0)),
    );
  }, 300_000);
});
