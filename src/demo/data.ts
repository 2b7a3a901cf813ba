import { createHash } from 'node:crypto';
import type { Db, Trx } from '../db/index.js';
import { seedDemoGroupsAndAssets } from './assets.js';
import { seedDemoInvoices } from './invoices.js';
import { seedDemoSites } from './sites.js';
import { seedDemoBilling } from './billing.js';
import { seedDemoUsage } from './usage.js';
import { seedDemoTickets } from './tickets.js';
import { seedDemoPartners } from './partners.js';
import { seedDemoLocations } from './locations.js';
import { hashPassword } from '../services/people/index.js';
import { todayIn, type Day } from '../services/assets/index.js';
import type { Principal } from '../services/access/index.js';

export const DEMO_PASSWORD = 'portico-demo';

/** Deterministic ids, so every seed of the demo has the same URLs. */
export function demoId(name: string): string {
  const h = createHash('sha256').update(`portico-demo:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const DEMO_LOGINS: { email: string; role: Principal['role']; what: string }[] = [
  { email: 'admin@demo.test', role: 'tenant_admin', what: 'tenant admin of "Demo Telematics"' },
  { email: 'support@demo.test', role: 'support_agent', what: 'support agent of "Demo Telematics"' },
  { email: 'owner@northwind.test', role: 'company_admin', what: 'company admin of "Northwind Logistics"' },
  { email: 'fleet@northwind.test', role: 'group_admin', what: 'group admin of Northwind\'s group "Trucks"' },
  { email: 'viewer@northwind.test', role: 'group_supervisor', what: 'group supervisor of "Trucks"' },
  { email: 'sites@northwind.test', role: 'site_viewer', what: 'site viewer of two Northwind sites' },
  {
    email: 'partner@bluewave.test',
    role: 'partner_viewer',
    what: 'partner viewer of reseller "Bluewave" (Northwind and Acme)',
  },
  { email: 'admin@other.test', role: 'tenant_admin', what: 'tenant admin of "Other Provider"' },
  { email: 'operator@demo.test', role: 'operator', what: 'deployment operator (belongs to no tenant)' },
];

type SeedStep = { name: string; run: (trx: Trx, ctx: SeedContext) => Promise<void> };
type SeedContext = { passwordHash: string; scale: number; today: Day };

/**
 * The demo is a list of steps, each a few set-based inserts; later features add their own step.
 * `scale` multiplies the bulk parts (assets, usage records) for benchmarks.
 */
const STEPS: SeedStep[] = [
  {
    name: 'tenants',
    run: async (trx) => {
      await trx('tenants').insert([
        { id: demoId('tenant:demo'), name: 'Demo Telematics' },
        { id: demoId('tenant:other'), name: 'Other Provider' },
      ]);
    },
  },
  {
    name: 'customers and partners',
    run: async (trx) => {
      const t = demoId('tenant:demo');
      await trx('customers').insert([
        {
          tenant_id: t,
          id: demoId('customer:northwind'),
          title: 'Northwind Logistics',
          account_id: 'NW-1001',
          contact_name: 'Nora West',
          email: 'ops@northwind.test',
          phone: '+44 20 7946 0001',
          // the summary: the demo's people land on the overview of what the portal holds
          home_page: 'summary',
        },
        {
          tenant_id: t,
          id: demoId('customer:acme'),
          title: 'Acme Field Services',
          account_id: 'AC-2001',
          contact_name: 'Alan Cole',
          email: 'it@acme.test',
          home_page: 'assets',
        },
        {
          tenant_id: t,
          id: demoId('customer:harbor'),
          title: 'Harbor Telecom Users',
          account_id: 'HT-3001',
          home_page: 'assets',
        },
        {
          tenant_id: demoId('tenant:other'),
          id: demoId('customer:other'),
          title: 'Other Provider Customer',
          account_id: 'OP-1',
        },
      ]);
      await trx('customers').insert({
        tenant_id: t,
        id: demoId('customer:northwind-south'),
        parent_id: demoId('customer:northwind'),
        title: 'Northwind South',
        account_id: 'NW-1002',
      });
      await trx('partners').insert({ tenant_id: t, id: demoId('partner:bluewave'), name: 'Bluewave' });
    },
  },
  {
    name: 'users',
    run: async (trx, ctx) => {
      const t = demoId('tenant:demo');
      const people: [string, string, Omit<Record<string, unknown>, 'user_id'>][] = [
        ['admin@demo.test', 'Dana Admin', { tenant_id: t, role: 'tenant_admin' }],
        ['support@demo.test', 'Sam Support', { tenant_id: t, role: 'support_agent' }],
        [
          'owner@northwind.test',
          'Olivia Owner',
          { tenant_id: t, role: 'company_admin', customer_id: demoId('customer:northwind') },
        ],
        [
          'fleet@northwind.test',
          'Finn Fleet',
          { tenant_id: t, role: 'group_admin', customer_id: demoId('customer:northwind') },
        ],
        [
          'viewer@northwind.test',
          'Vera Viewer',
          { tenant_id: t, role: 'group_supervisor', customer_id: demoId('customer:northwind') },
        ],
        [
          'sites@northwind.test',
          'Sid Sites',
          { tenant_id: t, role: 'site_viewer', customer_id: demoId('customer:northwind') },
        ],
        [
          'partner@bluewave.test',
          'Pat Partner',
          { tenant_id: t, role: 'partner_viewer', partner_id: demoId('partner:bluewave') },
        ],
        ['admin@other.test', 'Olaf Other', { tenant_id: demoId('tenant:other'), role: 'tenant_admin' }],
      ];
      await trx('users').insert(
        people.map(([email, name]) => ({
          id: demoId(`user:${email}`),
          email,
          name,
          password_hash: ctx.passwordHash,
          status: 'active',
          time_zone: 'Europe/London',
        })),
      );
      await trx('memberships').insert(
        people.map(([email, , m]) => ({ id: demoId(`membership:${email}`), user_id: demoId(`user:${email}`), ...m })),
      );
    },
  },
  {
    // the deployment's operator: a login with no membership, which creates and disables tenants
    name: 'operator',
    run: async (trx, ctx) => {
      const email = 'operator@demo.test';
      await trx('users').insert({
        id: demoId(`user:${email}`),
        email,
        name: 'Opal Operator',
        password_hash: ctx.passwordHash,
        status: 'active',
        time_zone: 'Europe/London',
      });
      await trx('operators').insert({ user_id: demoId(`user:${email}`) });
    },
  },
  {
    // a user added but not yet activated (no password), so the pending state shows in the demo
    name: 'pending users',
    run: async (trx) => {
      const email = 'new.hire@northwind.test';
      await trx('users').insert({
        id: demoId(`user:${email}`),
        email,
        name: 'Nell Newhire',
        password_hash: null,
        status: 'pending',
        time_zone: 'Europe/London',
      });
      await trx('memberships').insert({
        id: demoId(`membership:${email}`),
        tenant_id: demoId('tenant:demo'),
        user_id: demoId(`user:${email}`),
        role: 'group_supervisor',
        customer_id: demoId('customer:northwind'),
      });
    },
  },
  { name: 'groups and assets', run: (trx, ctx) => seedDemoGroupsAndAssets(trx, ctx.today) },
  // the devices map is a per-customer feature: on for Northwind, off for the others
  {
    name: 'maps',
    run: async (trx) =>
      void (await trx('customers')
        .where({ tenant_id: demoId('tenant:demo'), id: demoId('customer:northwind') })
        .update({ map_enabled: true })),
  },
  { name: 'usage records', run: (trx, ctx) => seedDemoUsage(trx, ctx.today, ctx.scale) },
  { name: 'tickets', run: (trx, ctx) => seedDemoTickets(trx, ctx.today) },
  { name: 'partners, products and prices', run: (trx) => seedDemoPartners(trx) },
  { name: 'location tracks and help links', run: (trx) => seedDemoLocations(trx) },
  { name: 'invoices', run: (trx, ctx) => seedDemoInvoices(trx, ctx.today) },
  { name: 'sites, visits and portal access', run: (trx, ctx) => seedDemoSites(trx, ctx.today) },
  { name: 'telecom accounts', run: (trx) => seedDemoBilling(trx) },
];

export async function hasDemoData(db: Db): Promise<boolean> {
  return !!(await db('tenants')
    .where({ id: demoId('tenant:demo') })
    .first('id'));
}

/** No tenant and no login yet (a deployment operator made on the command line counts as something). */
export async function isEmpty(db: Db): Promise<boolean> {
  return !(await db('tenants').first('id')) && !(await db('users').first('id'));
}

/** Fills the demo tenant in one transaction: all of it or nothing. */
export async function seedDemo(db: Db, opts: { scale?: number; now?: Date } = {}): Promise<void> {
  const today = todayIn('UTC', opts.now ?? new Date());
  const ctx: SeedContext = { passwordHash: await hashPassword(DEMO_PASSWORD), scale: opts.scale ?? 1, today };
  await db.transaction(async (trx) => {
    for (const step of STEPS) await step.run(trx, ctx);
  });
}
