import type { Knex } from 'knex';
import type { Db } from '../../db/index.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import { audit, msg } from '../platform/index.js';
import { deliverSoon } from './outbox.js';
import { type Actor, asActor, authorize, isOperator, type OperatorActor } from '../access/index.js';

export const MAIL_STATUSES = ['queued', 'sent', 'kept', 'dead'] as const;
export type MailStatus = (typeof MAIL_STATUSES)[number];

export type OutgoingMailSummary = {
  id: number;
  /** whose mail it is: shown to the operator, who reads every tenant's */
  tenantName: string;
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
  /** the files it carries (a report's CSV), by name and size */
  attachments: { filename: string; bytes: number }[];
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
  tenant_name: string;
  body_text?: string;
  redacted_text?: string | null;
  attachments?: { filename: string; content: string }[] | null;
};

const COLUMNS = [
  'o.id',
  'o.created_at',
  'o.channel',
  'o.recipient',
  'o.subject',
  'o.kind',
  'o.status',
  'o.attempts',
  'o.last_error',
  'o.sent_at',
  'o.next_attempt_at',
  't.name as tenant_name',
];

const summary = (r: Row): OutgoingMailSummary => ({
  id: r.id,
  tenantName: r.tenant_name,
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

/** Who reads outgoing mail: a tenant's admins their tenant's, the deployment operator everyone's. */
export type MailReader = Actor | OperatorActor;

/**
 * The outbox a reader reaches: a tenant admin their own tenant's, through its row-level security;
 * the operator the whole deployment's, read as the deployment like the mail job that sends it.
 */
function readOutbox<T>(db: Db, reader: MailReader, read: (outbox: () => Knex.QueryBuilder) => Promise<T>): Promise<T> {
  if (isOperator(reader)) {
    authorize(reader, 'operator.mail');
    return read(() => db('outbox as o').join('tenants as t', 't.id', 'o.tenant_id'));
  }
  authorize(reader, 'mail.view');
  return asActor(db, reader, (trx) =>
    read(() => trx('outbox as o').join('tenants as t', 't.id', 'o.tenant_id').where('o.tenant_id', reader.tenantId)),
  );
}

/**
 * The reader's outbox, newest first, a page at a time by keyset (`before` an id), so a deep page
 * costs what the first one does. Returns the id to continue before, or null on the last page.
 */
export async function listOutgoingMail(
  db: Db,
  reader: MailReader,
  query: OutgoingMailQuery,
): Promise<{ rows: OutgoingMailSummary[]; nextBefore: number | null }> {
  const rows: Row[] = await readOutbox(db, reader, (outbox) => {
    const q = outbox();
    if (query.status) q.where('o.status', query.status);
    if (query.before) q.where('o.id', '<', query.before);
    return q
      .orderBy('o.id', 'desc')
      .limit(query.size + 1)
      .select(COLUMNS);
  });
  const page = rows.slice(0, query.size);
  return { rows: page.map(summary), nextBefore: rows.length > query.size ? page[page.length - 1]!.id : null };
}

/**
 * One message with its text; a message outside the reader's outbox (another tenant's) is not found.
 * The one-time secrets a message carried show as "[redacted]", unless `revealKept` (outside production)
 * and the message is kept rather than sent: without an SMTP server, reading kept mail here is how a
 * demo's links reach people.
 */
export async function findOutgoingMail(
  db: Db,
  reader: MailReader,
  id: number,
  opts: { revealKept?: boolean } = {},
): Promise<OutgoingMailMessage> {
  const row: Row | undefined = await readOutbox(db, reader, (outbox) =>
    outbox()
      .where('o.id', id)
      .first([...COLUMNS, 'o.body_text', 'o.redacted_text', 'o.attachments']),
  );
  if (!row) throw new NotFoundError();
  const redacted = row.redacted_text != null && !(opts.revealKept && row.status === 'kept');
  const attachments = (row.attachments ?? []).map((a) => ({
    filename: a.filename,
    bytes: Buffer.byteLength(a.content, 'utf8'),
  }));
  return { ...summary(row), text: (redacted ? row.redacted_text : row.body_text) ?? '', redacted, attachments };
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
          ? msg('This message has been delivered already.')
          : row.status === 'queued'
            ? msg('This message is queued already: it is tried again by itself.')
            : msg('This message is kept, not sent: no SMTP server is configured.'),
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
