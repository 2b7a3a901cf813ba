import type { Trx } from '../db/index.js';
import { demoId } from './data.js';
import type { Day } from '../services/assets/index.js';
import type { TicketCategory, TicketStatus } from '../services/tickets/index.js';

/**
 * Demo tickets of Northwind with their threads: one about a Trucks unit going back and forth
 * between staff and the group admin, one about the account that staff resolved, one closed.
 * Times count back from `today`, so the lists look recent whenever the demo is seeded.
 */

type Entry = { by: string; staff?: boolean; hoursAgo: number; body?: string; from?: TicketStatus; to?: TicketStatus };
type TicketSeed = {
  key: string;
  asset: 'trucks' | 'vans' | null;
  subject: string;
  category: TicketCategory;
  status: TicketStatus;
  opener: string;
  entries: Entry[];
};

const PEOPLE: Record<string, string> = {
  'fleet@northwind.test': 'Finn Fleet',
  'owner@northwind.test': 'Olivia Owner',
  'support@demo.test': 'Sam Support',
  'admin@demo.test': 'Dana Admin',
};

const TICKETS: TicketSeed[] = [
  {
    key: 'no-position',
    asset: 'trucks',
    subject: 'Tracker reports no position since the weekend',
    category: 'technical',
    status: 'open',
    opener: 'fleet@northwind.test',
    entries: [
      {
        by: 'fleet@northwind.test',
        hoursAgo: 70,
        body: 'The unit has not reported a position since Saturday morning. The truck is in use every day.',
      },
      {
        by: 'support@demo.test',
        staff: true,
        hoursAgo: 50,
        body:
          'Thanks for the report. Could you check that the tracker has power (the green light blinks) ' +
          'and tell us what you see?',
      },
      { by: 'support@demo.test', staff: true, hoursAgo: 50, from: 'open', to: 'waiting_on_customer' },
      {
        by: 'fleet@northwind.test',
        hoursAgo: 26,
        body: 'The light is off. The driver says the fuse was replaced last week.',
      },
      { by: 'fleet@northwind.test', hoursAgo: 26, from: 'waiting_on_customer', to: 'open' },
    ],
  },
  {
    key: 'invoice-address',
    asset: null,
    subject: 'New invoice address from January',
    category: 'billing',
    status: 'resolved',
    opener: 'owner@northwind.test',
    entries: [
      {
        by: 'owner@northwind.test',
        hoursAgo: 200,
        body: 'From January our invoices should go to: Northwind Logistics, Accounts Payable, 12 Harbour Road, Leith.',
      },
      {
        by: 'admin@demo.test',
        staff: true,
        hoursAgo: 180,
        body: 'Done: invoices from 1 January go to the new address.',
      },
      { by: 'admin@demo.test', staff: true, hoursAgo: 180, from: 'open', to: 'resolved' },
    ],
  },
  {
    key: 'sim-swap',
    asset: 'vans',
    subject: 'SIM swap after the unit was replaced',
    category: 'subscription',
    status: 'closed',
    opener: 'owner@northwind.test',
    entries: [
      {
        by: 'owner@northwind.test',
        hoursAgo: 500,
        body: 'We replaced the unit in this van. Can the subscription move to the new SIM?',
      },
      {
        by: 'support@demo.test',
        staff: true,
        hoursAgo: 480,
        body: 'The subscription now runs on the new SIM; nothing changes on your invoice.',
      },
      { by: 'support@demo.test', staff: true, hoursAgo: 480, from: 'open', to: 'closed' },
    ],
  },
];

export async function seedDemoTickets(trx: Trx, today: Day): Promise<void> {
  const tenantId = demoId('tenant:demo');
  const customerId = demoId('customer:northwind');
  const end = new Date(`${today}T12:00:00Z`).getTime();
  const at = (hoursAgo: number, i: number) => new Date(end - hoursAgo * 3_600_000 + i * 1000);
  const label = (email: string) => `${PEOPLE[email]} <${email}>`;
  for (const t of TICKETS) {
    const asset = t.asset
      ? await trx('assets')
          .where({ tenant_id: tenantId, group_id: demoId(`group:${t.asset}`), status: 'active' })
          .orderBy('identifier')
          .first<{ id: string } | undefined>('id')
      : undefined;
    const id = demoId(`ticket:${t.key}`);
    const first = t.entries[0]!;
    const last = t.entries[t.entries.length - 1]!;
    await trx('tickets').insert({
      tenant_id: tenantId,
      id,
      customer_id: customerId,
      asset_id: asset?.id ?? null,
      subject: t.subject,
      category: t.category,
      status: t.status,
      opened_by: demoId(`user:${t.opener}`),
      opened_by_label: label(t.opener),
      created_at: at(first.hoursAgo, 0),
      updated_at: at(last.hoursAgo, t.entries.length - 1),
    });
    await trx('ticket_entries').insert(
      t.entries.map((e, i) => ({
        tenant_id: tenantId,
        ticket_id: id,
        kind: e.body ? 'comment' : 'status_change',
        author_id: demoId(`user:${e.by}`),
        author_label: label(e.by),
        by_staff: !!e.staff,
        body: e.body ?? null,
        from_status: e.from ?? null,
        to_status: e.to ?? null,
        created_at: at(e.hoursAgo, i),
      })),
    );
  }
}
