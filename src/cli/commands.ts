import type { Config } from '../config.js';
import { openDatabase, type OpenDatabase } from '../db/boot.js';
import { ValidationError } from '../errors.js';
import { english, type Msg } from '../services/platform/i18n.js';
import { COMMAND_LINE } from '../services/access/index.js';
import { createMailPump, createMailTransport, type MailTransport } from '../services/mail/index.js';
import { describeBreak, tenantOfChain, verifyAuditChains } from '../services/platform/index.js';
import { createOperator, operatorActivationMail } from '../services/people/index.js';
import { createTenant, firstAdminMailState, listTenants, type TenantSummary } from '../services/tenants/index.js';
import { type Command, USAGE, UsageError } from './parse.js';

/** What each `portico` command does, with the server's configuration; it answers in lines of text. */

export type Output = { out(line: string): void; err(line: string): void };

/** Which option of the command a service's field message is about, to say it in the command's words. */
const OPTION_OF: Record<string, string> = {
  name: '--name',
  adminEmail: '--admin-email',
  adminName: '--admin-name',
  email: '--email',
};

/** A service's refusal of the input, as the one line a usage error is. */
function refusal(err: ValidationError, fields: Record<string, string> = OPTION_OF): UsageError {
  const [field, message] = Object.entries(err.fields)[0] ?? ['', err.message];
  // a message with values (`Use at most {max} characters.`) is written out in English
  const text = field ? english.t(message as Msg) : english.t(message, err.values);
  return new UsageError(`${fields[field] ? `${fields[field]}: ` : ''}${text}`);
}

const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export async function runCommand(command: Command, config: Config, io: Output): Promise<void> {
  if (command.name === 'help') return void io.out(USAGE.trimEnd());
  // the embedded server the app runs, if it does: the command must not start (or stop) a second one
  const database = await openDatabase(config, { debug: () => {}, warn: () => {} }, { shareRunning: true });
  try {
    if (command.name === 'migrate') return migrated(database, io);
    if (command.name === 'tenant list') return printTenants(await listTenants(database.db, COMMAND_LINE), io);
    if (command.name === 'audit verify') return await auditVerify(database, command.tenant, io);
    const transport = createMailTransport(config.smtpUrl, config.mailFrom);
    try {
      if (command.name === 'tenant create') return await tenantCreate(database, config, transport, command, io);
      return await operatorCreate(database, config, transport, command, io);
    } finally {
      transport?.close();
    }
  } catch (err) {
    if (err instanceof ValidationError) throw refusal(err);
    throw err;
  } finally {
    await database.close();
  }
}

/** Prints what holds; a broken chain is a failure (exit code 1) whose one line names its first altered entry. */
async function auditVerify(database: OpenDatabase, tenant: string | undefined, io: Output) {
  const tenantId = tenant === undefined ? undefined : await tenantOfChain(database.db, tenant);
  if (tenantId === null)
    throw new UsageError(`audit verify: --tenant: no single tenant has the id or name ${JSON.stringify(tenant)}`);
  const report = await verifyAuditChains(database.db, { tenantId });
  if (report.broken.length) throw new Error(report.broken.map(describeBreak).join('; '));
  const chains = `${report.chains} chain${report.chains === 1 ? '' : 's'}`;
  io.out(`The audit log holds: ${chains}, ${report.entries} entr${report.entries === 1 ? 'y' : 'ies'} verified.`);
}

function migrated(database: OpenDatabase, io: Output) {
  if (!database.applied.length) return io.out('The database schema is up to date: no migration to apply.');
  io.out(`Applied ${database.applied.length} migration${database.applied.length === 1 ? '' : 's'}:`);
  for (const name of database.applied) io.out(`  ${name}`);
}

function printTenants(tenants: TenantSummary[], io: Output) {
  if (!tenants.length)
    return io.out('No tenants yet. Create the first with: portico tenant create --name "…" --admin-email …');
  const rows = tenants.map((t) => [
    t.name,
    t.status,
    t.admins.map((a) => `${a.email}${a.status === 'active' ? '' : ` (${a.status})`}`).join(', ') || '-',
    String(t.people),
    t.createdAt.toISOString().slice(0, 10),
    t.id,
  ]);
  const head = ['NAME', 'STATUS', 'TENANT ADMINS', 'PEOPLE', 'CREATED', 'ID'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows])
    io.out(
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

async function tenantCreate(
  database: OpenDatabase,
  config: Config,
  transport: MailTransport | null,
  command: Extract<Command, { name: 'tenant create' }>,
  io: Output,
) {
  const { db } = database;
  // with SMTP, the link goes through the new tenant's outbox: delivered at once by this process, or
  // later by the running server's mail job if the SMTP server refuses it now
  const pump = transport
    ? createMailPump(
        db,
        transport,
        () => new Date(),
        () => {},
      )
    : null;
  try {
    const created = await createTenant(
      db,
      COMMAND_LINE,
      { name: command.tenantName, adminEmail: command.adminEmail, adminName: command.adminName },
      { now: new Date(), baseUrl: config.baseUrl, mail: !!transport },
    );
    const { tenant, admin } = created;
    io.out(`Created the tenant "${tenant.name}" and its first tenant admin, ${admin.name} <${admin.email}>.`);
    io.out(`Their activation link (it works once, until ${utc(created.expiresAt)}):`);
    io.out(`  ${config.baseUrl}/activate/${created.token}`);
    if (!pump) return io.out('No SMTP_URL is set, so nothing was mailed: hand the link over yourself.');
    await pump.idle();
    const mail = await firstAdminMailState(db, COMMAND_LINE, created);
    if (mail?.status === 'sent') return io.out(`The link was mailed to ${admin.email}.`);
    io.err(
      `portico: the mail to ${admin.email} is not delivered yet (${mail?.lastError ?? 'queued'}); ` +
        'Portico keeps trying while it runs. The link above works either way.',
    );
  } finally {
    pump?.stop();
  }
}

async function operatorCreate(
  database: OpenDatabase,
  config: Config,
  transport: MailTransport | null,
  command: Extract<Command, { name: 'operator create' }>,
  io: Output,
) {
  const { user, token, expiresAt } = await createOperator(
    database.db,
    { email: command.email, name: command.operatorName },
    new Date(),
  );
  const link = `${config.baseUrl}/activate/${token}`;
  io.out(`Created the deployment operator ${user.name} <${user.email}>.`);
  io.out(`Their activation link (it works once, until ${utc(expiresAt)}):`);
  io.out(`  ${link}`);
  if (!transport) return io.out('No SMTP_URL is set, so nothing was mailed: hand the link over yourself.');
  try {
    await transport.deliver(operatorActivationMail(user, link));
    io.out(`The link was mailed to ${user.email}.`);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    io.err(`portico: the mail to ${user.email} was not delivered (${why}). The link above works either way.`);
  }
}
