import type { Db } from '../../db/index.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { audit } from '../platform/index.js';
import { deliverSoon } from './outbox.js';
import { type Actor, asActor, authorize } from '../access/index.js';

export const MAIL_STATUSES = ['queued', 'sent', 'kept', 'dead'] as const;
export type MailStatus = (typeof MAIL_STATUSES)[number];

export type OutgoingMailSummary = {
  id: number;
  createdAt: Date;
  /** 'sms' messages are kept here: no SMS provider is configured */
  channel: 'email' | 'sms';
  to: string;
  subject: string;
  kind: string;
  status: MailStatus;
  attempts: number;
  lastError: string | null;
  sentAt: Date | null;
  nextAttemptAt: Date;
};

export type OutgoingMailMessage = OutgoingMailSummary & {
  text: string;
  /** the message carried one-time secrets (links, codes, passwords): `text` shows them as "[redacted]" */
  redacted: boolean;
};

export type OutgoingMailQuery = { status?: MailStatus; before?: number; size: number };

type Row = {
  id: number;
  created_at: Date;
  channel: 'email' | 'sms';
  recipient: string;
  subject: string;
  kind: string;
  status: MailStatus;
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
  next_attempt_at: Date;
  body_text?: string;
  redacted_text?: string | null;
};

const COLUMNS = [
  'id',
  'created_at',
  'channel',
  'recipient',
  'subject',
  'kind',
  'status',
  'attempts',
  'last_error',
  'sent_at',
  'next_attempt_at',
];

const summary = (r: Row): OutgoingMailSummary => ({
  id: r.id,
  createdAt: r.created_at,
  channel: r.channel,
  to: r.recipient,
  subject: r.subject,
  kind: r.kind,
  status: r.status,
  attempts: r.attempts,
  lastError: r.last_error,
  sentAt: r.sent_at,
  nextAttemptAt: r.next_attempt_at,
});

/**
 * The tenant's outbox, newest first, a page at a time by keyset (`before` an id), so a deep page
 * costs what the first one does. Returns the id to continue before, or null on the last page.
 */
export async function listOutgoingMail(
  db: Db,
  actor: Actor,
  query: OutgoingMailQuery,
): Promise<{ rows: OutgoingMailSummary[]; nextBefore: number | null }> {
  authorize(actor, 'mail.view');
  const rows: Row[] = await asActor(db, actor, (trx) => {
    const q = trx('outbox').where({ tenant_id: actor.tenantId });
    if (query.status) q.where({ status: query.status });
    if (query.before) q.where('id', '<', query.before);
    return q
      .orderBy('id', 'desc')
      .limit(query.size + 1)
      .select(COLUMNS);
  });
  const page = rows.slice(0, query.size);
  return { rows: page.map(summary), nextBefore: rows.length > query.size ? page[page.length - 1]!.id : null };
}

/**
 * One message with its text; another tenant's message is not found. The one-time secrets a message carried
 * show as "[redacted]", unless `revealKept` (outside production) and the message is kept rather than sent:
 * without an SMTP server, reading kept mail here is how a demo's links reach people.
 */
export async function findOutgoingMail(
  db: Db,
  actor: Actor,
  id: number,
  opts: { revealKept?: boolean } = {},
): Promise<OutgoingMailMessage> {
  authorize(actor, 'mail.view');
  const row: Row | undefined = await asActor(db, actor, (trx) =>
    trx('outbox')
      .where({ tenant_id: actor.tenantId, id })
      .first([...COLUMNS, 'body_text', 'redacted_text']),
  );
  if (!row) throw new NotFoundError();
  const redacted = row.redacted_text != null && !(opts.revealKept && row.status === 'kept');
  return { ...summary(row), text: (redacted ? row.redacted_text : row.body_text) ?? '', redacted };
}

/**
 * "Retry" on a dead message: it is queued again, due now, with a fresh round of attempts; the last
 * error stays until a delivery succeeds. Only dead messages: the others are on their way already.
 */
export async function retryDeadMail(db: Db, actor: Actor, id: number, now: Date): Promise<{ to: string }> {
  authorize(actor, 'mail.retry');
  return asActor(db, actor, async (trx) => {
    const row = await trx('outbox')
      .where({ tenant_id: actor.tenantId, id })
      .forUpdate()
      .first<{ recipient: string; status: MailStatus; attempts: number; kind: string } | undefined>(
        'recipient',
        'status',
        'attempts',
        'kind',
      );
    if (!row) throw new NotFoundError();
    if (row.status !== 'dead')
      throw new ConflictError(
        row.status === 'sent'
          ? 'This message has been delivered already.'
          : row.status === 'queued'
            ? 'This message is queued already: it is tried again by itself.'
            : 'This message is kept, not sent: no SMTP server is configured.',
      );
    await trx('outbox')
      .where({ tenant_id: actor.tenantId, id })
      .update({ status: 'queued', attempts: 0, next_attempt_at: now });
    deliverSoon(trx);
    await audit(trx, actor, {
      entityType: 'mail',
      entityId: String(id),
      action: 'mail.retried',
      before: { status: 'dead', attempts: row.attempts, kind: row.kind },
      after: { status: 'queued', attempts: 0 },
    });
    return { to: row.recipient };
  });
}
