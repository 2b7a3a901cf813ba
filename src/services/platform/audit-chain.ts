import type { Db } from '../../db/index.js';
import { enqueueMail } from '../mail/index.js';
import { english, isLocale, msg, recipientLocale, translator, type Translator } from './i18n.js';

/**
 * The audit log's hash chains (one per tenant, kept by the audit_log_chain trigger, see the
 * migration chain_audit_log): verifying them, and telling the operators when one is broken.
 * Verification recomputes every entry's hash with the same SQL functions that wrote it.
 */

export const GENESIS_HASH = '0'.repeat(64);

/** The first entry of a chain that does not hold, and why. */
export type ChainBreak = {
  tenantId: string;
  tenantName: string;
  entryId: number;
  seq: number;
  reason: 'content' | 'link' | 'gap';
};

export type ChainReport = { chains: number; entries: number; broken: ChainBreak[] };

const REASONS: Record<ChainBreak['reason'], string> = {
  content: msg('its content no longer matches its hash'),
  link: msg('it does not follow the entry before it (one was removed or rewritten)'),
  gap: msg('an entry before it is missing'),
};

/** What broke, for a log or the command line: English. */
export function describeBreak(b: ChainBreak): string {
  return breakIn(b, english);
}

/** What broke, in a language (an operator's mail). */
function breakIn(b: ChainBreak, tr: Translator): string {
  // ids as text: a number would be grouped ("1,234")
  return tr.t('audit chain of {tenant} ({tenantId}) broken at entry {entryId} (#{seq}): {reason}', {
    tenant: b.tenantName,
    tenantId: b.tenantId,
    entryId: String(b.entryId),
    seq: String(b.seq),
    reason: tr.t(REASONS[b.reason]),
  });
}

/** Verifies every tenant's chain, or one tenant's; reports the first broken entry of each broken chain. */
export async function verifyAuditChains(db: Db, opts: { tenantId?: string } = {}): Promise<ChainReport> {
  const only = opts.tenantId ? 'where l.tenant_id = ?' : '';
  const bindings = opts.tenantId ? [opts.tenantId, opts.tenantId, opts.tenantId] : [];
  const { rows } = await db.raw<{ rows: Record<string, string | number | null>[] }>(
    `
    with checked as (
      select l.tenant_id, l.id, l.chain_seq, l.prev_hash, l.hash, audit_entry_hash(l) as computed,
             lag(l.hash) over w as prior_hash, row_number() over w as n
        from audit_log l ${only}
      window w as (partition by l.tenant_id order by l.chain_seq)
    ),
    broken as (
      select distinct on (tenant_id) tenant_id, id, chain_seq,
             case when chain_seq <> n then 'gap'
                  when hash <> computed then 'content'
                  else 'link' end as reason
        from checked
       where hash <> computed or chain_seq <> n or prev_hash <> coalesce(prior_hash, repeat('0', 64))
       order by tenant_id, chain_seq
    )
    select null as tenant_id, null as name, null as id, null as chain_seq, null as reason,
           (select count(*) from audit_log l ${only})::int as entries,
           (select count(distinct tenant_id) from audit_log l ${only})::int as chains
    union all
    select b.tenant_id, t.name, b.id, b.chain_seq, b.reason, null, null
      from broken b join tenants t on t.id = b.tenant_id`,
    bindings,
  );
  const [totals, ...breaks] = rows;
  return {
    entries: Number(totals!.entries),
    chains: Number(totals!.chains),
    broken: breaks.map((r) => ({
      tenantId: String(r.tenant_id),
      tenantName: String(r.name),
      entryId: Number(r.id),
      seq: Number(r.chain_seq),
      reason: r.reason as ChainBreak['reason'],
    })),
  };
}

/**
 * The nightly check: verifies every chain and mails each active operator about each broken one
 * (the mail belongs to the broken chain's tenant in the outbox; only operators see it there).
 */
export async function verifyAuditChainsAndNotify(db: Db): Promise<ChainReport> {
  const report = await verifyAuditChains(db);
  if (!report.broken.length) return report;
  const operators: { id: string; email: string; locale: string }[] = await db('operators as o')
    .join('users as u', 'u.id', 'o.user_id')
    .where('u.status', 'active')
    .select('u.id', 'u.email', db.raw(`${recipientLocale('u')} as locale`));
  await db.transaction(async (trx) => {
    for (const b of report.broken) {
      for (const op of operators) {
        // in the operator's language
        const tr = translator(isLocale(op.locale) ? op.locale : 'en');
        await enqueueMail(trx, {
          tenantId: b.tenantId,
          kind: 'audit_chain_broken',
          to: op.email,
          userId: op.id,
          subject: tr.t('Audit log of {tenant} altered at entry {entryId}', {
            tenant: b.tenantName,
            entryId: String(b.entryId),
          }),
          text:
            tr.t('The nightly check of the audit log found that the {problem}.', { problem: breakIn(b, tr) }) +
            '\n\n' +
            tr.t('Entries from #{seq} on can no longer be shown to be unaltered.', { seq: String(b.seq) }) +
            ' ' +
            tr.t('Compare with a backup or an export, and run {command} once it is understood.', {
              command: `\`portico audit verify --tenant ${b.tenantId}\``,
            }) +
            '\n',
        });
      }
    }
  });
  return report;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The tenant whose chain the command line means, by id or by exact name; null when none is, or when
 * several tenants share the name (their ids tell them apart).
 */
export async function tenantOfChain(db: Db, idOrName: string): Promise<string | null> {
  const ids: string[] = await db('tenants')
    .where((q) => (UUID.test(idOrName) ? q.where('id', idOrName) : q.where('name', idOrName)))
    .limit(2)
    .pluck('id');
  return ids.length === 1 ? ids[0]! : null;
}
