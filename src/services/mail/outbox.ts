import type { Knex } from 'knex';
import type { Db, Trx } from '../../db/index.js';
import type { MailAttachment, MailTransport } from './transport.js';

export type NewMail = {
  tenantId: string;
  /**
   * 'sms': a text to a mobile number (`to`); no SMS provider exists yet, so it is kept for the outgoing
   * messages page
   */
  channel?: 'email' | 'sms';
  kind: string;
  to: string;
  userId?: string | null;
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
  /**
   * one-time secrets the text carries (a link's token, a generated password, a code): the outbox keeps
   * them only until the message is delivered, and the outgoing mail page never shows them after that
   */
  secrets?: string[];
  /** files the message carries (a report's CSV); kept in the outbox's attachments column until pruned */
  attachments?: MailAttachment[];
};

export const REDACTED = '[redacted]';

/** The text with every secret in it replaced by a placeholder; null when it carries none. */
export function redactSecrets(text: string, secrets: string[] = []): string | null {
  const found = secrets.filter((s) => s && text.includes(s)).sort((a, b) => b.length - a.length);
  return found.length ? found.reduce((t, secret) => t.split(secret).join(REDACTED), text) : null;
}

/**
 * The pumps of this process, by the database they deliver from. A transaction shares its database's
 * client config object, so a message queued in one finds the pumps of its database.
 */
type Pump = { kick(): void; running(): Promise<void> | null };
const pumpsByDatabase = new WeakMap<object, Set<Pump>>();

/** Runs `then` once the outermost transaction around `db` has committed (at once outside one). */
function afterCommit(db: Db | Trx, then: () => void): void {
  if (!db.isTransaction) return then();
  let trx = db as Knex.Transaction & { parentTransaction?: Knex.Transaction };
  while (trx.parentTransaction) trx = trx.parentTransaction;
  trx.executionPromise.then(then, () => undefined);
}

/**
 * Queues a message in the same transaction as the change that caused it; once that commits, the
 * pumps of this process deliver it at once (the mail job picks up anything queued elsewhere).
 */
export async function enqueueMail(trx: Db | Trx, mail: NewMail): Promise<void> {
  const redacted = redactSecrets(mail.text, mail.secrets);
  // the HTML part would keep the secret where the text part lost it
  if (redacted && mail.html) throw new Error('A message that carries a secret is sent as text only.');
  if (redacted && mail.attachments?.length) throw new Error('A message that carries a secret carries no files.');
  await trx('outbox').insert({
    tenant_id: mail.tenantId,
    channel: mail.channel ?? 'email',
    ...(mail.channel === 'sms' ? { status: 'kept' } : {}),
    kind: mail.kind,
    recipient: mail.to,
    user_id: mail.userId ?? null,
    subject: mail.subject,
    body_text: mail.text,
    redacted_text: redacted,
    body_html: mail.html ?? null,
    headers: JSON.stringify(mail.headers ?? {}),
    attachments: mail.attachments?.length ? JSON.stringify(mail.attachments) : null,
  });
  if (mail.channel !== 'sms') deliverSoon(trx);
}

/** Once the transaction commits, this process's pumps of the database deliver what is due at once. */
export function deliverSoon(db: Db | Trx): void {
  afterCommit(db, () => pumpsByDatabase.get(db.client.config)?.forEach((pump) => pump.kick()));
}

export const MAX_ATTEMPTS = 8;

/** 1, 2, 4 … minutes between tries, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(60, 2 ** Math.max(0, attempts - 1)) * 60_000;
}

type OutboxRow = {
  tenant_id: string;
  id: number;
  recipient: string;
  subject: string;
  body_text: string;
  body_html: string | null;
  headers: Record<string, string>;
  attachments: MailAttachment[] | null;
  attempts: number;
};

/**
 * Delivers due messages. Each batch is claimed with FOR UPDATE SKIP LOCKED, so several instances
 * drain the outbox together without sending anything twice. Without a transport, mail is kept
 * (readable on the Outgoing mail page). Returns how many messages were settled.
 */
export async function deliverDueMail(
  db: Db,
  transport: MailTransport | null,
  now: Date,
  batchSize = 20,
): Promise<number> {
  let settled = 0;
  for (;;) {
    const n = await db.transaction(async (trx) => {
      const rows: OutboxRow[] = await trx('outbox')
        .where('status', 'queued')
        .where('channel', 'email')
        // a message never tried is due at once: its queue time comes from the database clock, retries from `now`
        .where((q) => q.where('attempts', 0).orWhere('next_attempt_at', '<=', now))
        .orderBy('next_attempt_at')
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .select(
          'tenant_id',
          'id',
          'recipient',
          'subject',
          'body_text',
          'body_html',
          'headers',
          'attachments',
          'attempts',
        );
      for (const row of rows) {
        const key = { tenant_id: row.tenant_id, id: row.id };
        if (!transport) {
          await trx('outbox').where(key).update({ status: 'kept' });
          continue;
        }
        try {
          await transport.deliver({
            to: row.recipient,
            subject: row.subject,
            text: row.body_text,
            ...(row.body_html ? { html: row.body_html } : {}),
            headers: row.headers,
            ...(row.attachments?.length ? { attachments: row.attachments } : {}),
          });
          // delivered: a secret the message carried now lives only in the recipient's mailbox
          await trx('outbox')
            .where(key)
            .update({
              status: 'sent',
              sent_at: now,
              attempts: row.attempts + 1,
              last_error: null,
              body_text: trx.raw('coalesce(redacted_text, body_text)'),
            });
        } catch (err) {
          const attempts = row.attempts + 1;
          await trx('outbox')
            .where(key)
            .update({
              attempts,
              last_error: String(err instanceof Error ? err.message : err).slice(0, 1000),
              status: attempts >= MAX_ATTEMPTS ? 'dead' : 'queued',
              next_attempt_at: new Date(now.getTime() + retryDelayMs(attempts)),
            });
        }
      }
      return rows.length;
    });
    settled += n;
    if (n < batchSize) return settled;
  }
}

export const DEFAULT_MAIL_RETENTION_DAYS = 30;

/**
 * Forgets mail older than the retention period (MAIL_RETENTION_DAYS), whatever became of it, except mail
 * still queued: the outbox is a delivery queue and a short record, not an archive of what people were sent.
 */
export async function pruneOutbox(db: Db, now: Date, keepDays = DEFAULT_MAIL_RETENTION_DAYS): Promise<number> {
  return db('outbox')
    .where('created_at', '<', new Date(now.getTime() - keepDays * 86_400_000))
    .whereNot({ status: 'queued' })
    .del();
}

export type MailPump = {
  /** Delivers queued mail soon, without waiting for the next scheduled run. */
  kick(): void;
  /** Resolves when no delivery started by kick() is still running (for tests and shutdown). */
  idle(): Promise<void>;
  /** Queued mail no longer wakes this pump (at shutdown; tests that step delivery by hand). */
  stop(): void;
  /** Queued mail wakes this pump again (it does from creation). */
  start(): void;
};

export function createMailPump(
  db: Db,
  transport: MailTransport | null,
  now: () => Date,
  onError: (err: unknown) => void,
): MailPump {
  let running: Promise<void> | null = null;
  let again = false;
  const run = (): Promise<void> =>
    deliverDueMail(db, transport, now())
      .then(() => undefined, onError)
      .then(() => {
        if (again) {
          again = false;
          return run();
        }
        running = null;
      });
  const kick = () => {
    if (running) again = true;
    else running = run();
  };
  const config = db.client.config as object;
  const pumps = pumpsByDatabase.get(config) ?? new Set<Pump>();
  const self: Pump = { kick, running: () => running };
  pumpsByDatabase.set(config, pumps.add(self));
  return {
    kick,
    // every pump of this database: queued mail may have been taken by another app in this process
    async idle() {
      for (
        let busy = [...pumps].map((p) => p.running());
        busy.some(Boolean);
        busy = [...pumps].map((p) => p.running())
      ) {
        await Promise.all(busy);
      }
    },
    stop: () => void pumps.delete(self),
    start: () => void pumps.add(self),
  };
}
