import type { Trx } from '../db/index.js';
import { demoId } from './data.js';
import { writeInvoice } from '../services/billing/index.js';
import { addMonths, type Day } from '../services/assets/index.js';

/**
 * Northwind's invoice for last month's usage (every product), issued, so the customer's Invoices page
 * and /api/v1/invoices have something to show; the months before and this one stay open to invoice.
 */
export async function seedDemoInvoices(trx: Trx, today: Day): Promise<void> {
  const tenantId = demoId('tenant:demo');
  const now = new Date(`${today}T06:00:00Z`);
  const lastMonth = addMonths(today, -1).slice(0, 7);
  // the same checks and writing as staff's, by the system
  const invoice = await writeInvoice(
    trx,
    { system: 'demo data', tenantId },
    demoId('customer:northwind'),
    { granularity: 'monthly', product: 'all', periods: [lastMonth] },
    now,
  );
  await trx('invoices')
    .where({ tenant_id: tenantId, id: invoice.id })
    .update({ status: 'issued', issued_at: now, updated_at: now });
}
