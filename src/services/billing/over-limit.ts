import type { Db, Trx } from '../../db/index.js';
import { enqueueMail } from '../mail/index.js';
import { audit } from '../platform/index.js';
import { type Actor, asActor, authorize } from '../access/index.js';
import { formatMoney } from './money.js';
import { OVER_LIMIT_SQL } from './rules.js';
import { isLocale, recipientLocale, translator } from '../platform/index.js';

/**
 * An account going over its debit limit (isOverLimit): its billing contacts, the customer's active
 * company admins, get one mail each time it happens. customers.over_limit_notified_at is the memory:
 * set by the one statement that finds the account over and not yet told (so concurrent batches
 * cannot both send it), cleared once the account is back inside its limit. Records keep arriving
 * meanwhile (devices' usage is never dropped silently; the pages that show money say "Over limit"),
 * unless the tenant turned on "block over limit": then the ingestion refuses them, each record with
 * its own error (blockedCustomerIds).
 * Called in the transaction of whatever moved the balance.
 */
export async function noticeOverLimit(trx: Db | Trx, tenantId: string, customerIds: string[]): Promise<number> {
  if (!customerIds.length) return 0;
  await trx.raw(
    `update customers c set over_limit_notified_at = null
      where c.tenant_id = ? and c.id = any(?::uuid[]) and c.over_limit_notified_at is not null
        and not ${OVER_LIMIT_SQL}`,
    [tenantId, customerIds],
  );
  const { rows } = await trx.raw<{
    rows: {
      id: string;
      title: string;
      account_id: string;
      currency: string;
      balance_minor: string;
      debit_limit_minor: string;
    }[];
  }>(
    `update customers c set over_limit_notified_at = now()
      where c.tenant_id = ? and c.id = any(?::uuid[]) and c.over_limit_notified_at is null and ${OVER_LIMIT_SQL}
      returning c.id, c.title, c.account_id, c.currency, c.balance_minor, c.debit_limit_minor`,
    [tenantId, customerIds],
  );
  for (const c of rows) {
    const contacts: { id: string; email: string; name: string; locale: string }[] = await trx('memberships as m')
      .join('users as u', 'u.id', 'm.user_id')
      .where({ 'm.tenant_id': tenantId, 'm.customer_id': c.id, 'm.role': 'company_admin', 'u.status': 'active' })
      .whereNull('m.disabled_at')
      .orderBy('u.email')
      .select('u.id', 'u.email', 'u.name', trx.raw(`${recipientLocale('u')} as locale`));
    for (const person of contacts) {
      // in the recipient's language, money in its conventions
      const tr = translator(isLocale(person.locale) ? person.locale : 'en');
      const balance = formatMoney(c.balance_minor, c.currency, tr.formatLocale);
      const limit = formatMoney(c.debit_limit_minor, c.currency, tr.formatLocale);
      const account = { customer: c.title, account: c.account_id };
      await enqueueMail(trx, {
        tenantId,
        kind: 'over_limit',
        to: person.email,
        userId: person.id,
        subject: tr.t('{customer} ({account}) is over its debit limit', account),
        text:
          tr.t('Hello {name},', { name: person.name }) +
          '\n\n' +
          tr.t(
            'The telecom account of {customer} ({account}) has used up its debit limit of {limit}: the balance is {balance}.',
            { ...account, limit, balance },
          ) +
          '\n\n' +
          tr.t('Usage keeps being recorded and charged. Please make a payment, or ask your provider about the limit.') +
          '\n',
      });
    }
  }
  return rows.length;
}

/** Whether the tenant refuses the usage records of accounts over their limit (off without a row). */
export async function blocksOverLimit(trx: Db | Trx, tenantId: string): Promise<boolean> {
  const row = await trx('billing_settings')
    .where({ tenant_id: tenantId })
    .first<{ block_over_limit: boolean } | undefined>('block_over_limit');
  return row?.block_over_limit ?? false;
}

/** The tenant's accounts whose usage records the ingestion refuses now: none unless the tenant blocks. */
export async function blockedCustomerIds(trx: Trx, tenantId: string, customerIds: string[]): Promise<Set<string>> {
  if (!customerIds.length || !(await blocksOverLimit(trx, tenantId))) return new Set();
  const ids: string[] = await trx('customers as c')
    .where('c.tenant_id', tenantId)
    .whereRaw('c.id = any(?::uuid[])', [customerIds])
    .whereRaw(OVER_LIMIT_SQL)
    .pluck('c.id');
  return new Set(ids);
}

/** Tenant admins turn "Block usage of accounts over their limit" on or off (Provider settings). */
export async function setBlockOverLimit(db: Db, actor: Actor, on: boolean): Promise<void> {
  authorize(actor, 'tenant_settings.manage');
  await asActor(db, actor, async (trx) => {
    const before = await blocksOverLimit(trx, actor.tenantId);
    if (before === on) return;
    await trx('billing_settings')
      .insert({ tenant_id: actor.tenantId, block_over_limit: on })
      .onConflict('tenant_id')
      .merge({ block_over_limit: on, updated_at: trx.fn.now() });
    await audit(trx, actor, {
      entityType: 'tenant',
      entityId: actor.tenantId,
      action: 'billing.block_over_limit_changed',
      before: { block_over_limit: before },
      after: { block_over_limit: on },
    });
  });
}

/** The switch as the settings page shows it. */
export async function billingSettings(db: Db, actor: Actor): Promise<{ blockOverLimit: boolean }> {
  authorize(actor, 'tenant_settings.manage');
  return { blockOverLimit: await asActor(db, actor, (trx) => blocksOverLimit(trx, actor.tenantId)) };
}
