import { parseArgs } from 'node:util';

/** What `portico …` was asked to do, from its arguments alone (no database, no environment). */

export type Command =
  | { name: 'help' }
  | { name: 'tenant create'; tenantName: string; adminEmail: string; adminName: string | undefined }
  | { name: 'tenant list' }
  | { name: 'operator create'; email: string; operatorName: string | undefined }
  | { name: 'audit verify'; tenant: string | undefined }
  | { name: 'migrate' };

/** Arguments that make no command: said in one line, and the process exits with code 2. */
export class UsageError extends Error {}

export const USAGE = `Usage: portico <command> [options]

Commands:
  tenant create --name <name> --admin-email <email> [--admin-name <name>]
                        Creates a tenant and its first tenant admin, and prints the admin's single-use
                        activation link (also mailed to them when SMTP_URL is set).
  tenant list           Lists the tenants: status, tenant admins, people and when each was created.
  operator create --email <email> [--name <name>]
                        Creates a deployment operator (a login that belongs to no tenant), and prints
                        their single-use activation link (also mailed to them when SMTP_URL is set).
  audit verify [--tenant <id or name>]
                        Recomputes the audit log's hash chains (every tenant's, or one): exit code 0
                        when all hold, 1 naming the first altered entry of each broken chain.
  migrate               Brings the database schema up to date (the server does this as it starts, too).

Every command uses the server's environment: DATABASE_URL, or else the embedded PostgreSQL in DATA_DIR
(the running server's, or one started for the command); BASE_URL for the links; SMTP_URL and MAIL_FROM
for mail.
`;

const HINT = ' (see portico --help)';

type Spec = Record<string, { type: 'string' }>;

/** The options of one command, strictly: an unknown option, a repeated one or a stray word is refused. */
function options<T extends Spec>(command: string, args: string[], spec: T): Record<keyof T, string | undefined> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: spec, strict: true, allowPositionals: false });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const what = String((err as Error).message).split('\n')[0]!;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const option = /'([^']+)'/.exec(what)?.[1] ?? what;
      throw new UsageError(`${command} has no option ${option}${HINT}`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const word = /'([^']+)'/.exec(what)?.[1] ?? what;
      throw new UsageError(`${command} takes no argument ${JSON.stringify(word)}${HINT}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const option = /'(--[^' ]+)/.exec(what)?.[1] ?? 'an option';
      throw new UsageError(`${command}: ${option} needs a value${HINT}`);
    }
    throw new UsageError(`${command}: ${what}`);
  }
  return parsed.values as unknown as Record<keyof T, string | undefined>;
}

/** An optional option: absent, or not blank. */
function optional(command: string, option: string, value: string | undefined): string | undefined {
  if (value !== undefined && !value.trim()) throw new UsageError(`${command}: --${option} is empty`);
  return value;
}

/** A required option: present and not blank. */
function required(command: string, option: string, value: string | undefined): string {
  if (value === undefined) throw new UsageError(`${command} needs --${option}${HINT}`);
  if (!value.trim()) throw new UsageError(`${command}: --${option} is empty`);
  return value;
}

export function parseCommand(argv: string[]): Command {
  const [first, second, ...rest] = argv;
  if (first === undefined) throw new UsageError(`no command given${HINT}`);
  if (first === '--help' || first === '-h' || first === 'help') {
    if (argv.length > 1) throw new UsageError(`help takes no argument${HINT}`);
    return { name: 'help' };
  }
  if (first === 'migrate') {
    options('migrate', argv.slice(1), {});
    return { name: 'migrate' };
  }
  if (first === 'audit') {
    if (second !== 'verify') {
      if (second === undefined || second.startsWith('-')) throw new UsageError(`audit needs a command: verify${HINT}`);
      throw new UsageError(`audit has no command ${JSON.stringify(second)}: verify${HINT}`);
    }
    const o = options('audit verify', rest, { tenant: { type: 'string' } });
    return { name: 'audit verify', tenant: optional('audit verify', 'tenant', o.tenant) };
  }
  if (first === 'tenant' || first === 'operator') {
    const command = `${first} ${second ?? ''}`.trim();
    if (first === 'tenant' && second === 'create') {
      const o = options(command, rest, {
        name: { type: 'string' },
        'admin-email': { type: 'string' },
        'admin-name': { type: 'string' },
      });
      return {
        name: 'tenant create',
        tenantName: required(command, 'name', o.name),
        adminEmail: required(command, 'admin-email', o['admin-email']),
        adminName: optional(command, 'admin-name', o['admin-name']),
      };
    }
    if (first === 'tenant' && second === 'list') {
      options(command, rest, {});
      return { name: 'tenant list' };
    }
    if (first === 'operator' && second === 'create') {
      const o = options(command, rest, { email: { type: 'string' }, name: { type: 'string' } });
      const email = required(command, 'email', o.email);
      return { name: 'operator create', email, operatorName: optional(command, 'name', o.name) };
    }
    const choices = first === 'tenant' ? 'create or list' : 'create';
    if (second === undefined || second.startsWith('-'))
      throw new UsageError(`${first} needs a command: ${choices}${HINT}`);
    throw new UsageError(`${first} has no command ${JSON.stringify(second)}: ${choices}${HINT}`);
  }
  throw new UsageError(`no command ${JSON.stringify(first)}${HINT}`);
}
