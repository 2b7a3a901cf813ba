import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from '../../src/cli/parse.js';

/** What `portico …` makes of its arguments; the one-line refusals are what an operator reads. */

const refusal = (argv: string[]) => {
  try {
    parseCommand(argv);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
};

describe('the portico command line', () => {
  it('reads each command with its options', () => {
    expect(parseCommand(['tenant', 'create', '--name', 'Acme', '--admin-email', 'a@acme.test'])).toEqual({
      name: 'tenant create',
      tenantName: 'Acme',
      adminEmail: 'a@acme.test',
      adminName: undefined,
    });
    expect(
      parseCommand(['tenant', 'create', '--admin-email=a@acme.test', '--name=Acme', '--admin-name', 'Ann']),
    ).toEqual({ name: 'tenant create', tenantName: 'Acme', adminEmail: 'a@acme.test', adminName: 'Ann' });
    expect(parseCommand(['operator', 'create', '--email', 'o@ops.test'])).toEqual({
      name: 'operator create',
      email: 'o@ops.test',
      operatorName: undefined,
    });
    expect(parseCommand(['tenant', 'list'])).toEqual({ name: 'tenant list' });
    expect(parseCommand(['migrate'])).toEqual({ name: 'migrate' });
    expect(parseCommand(['--help'])).toEqual({ name: 'help' });
  });

  it('refuses what makes no command, in one line that says what is wrong', () => {
    const cases: [string[], string][] = [
      [[], 'no command given'],
      [['frobnicate'], 'no command "frobnicate"'],
      [['tenant'], 'tenant needs a command: create or list'],
      [['tenant', 'delete'], 'tenant has no command "delete": create or list'],
      [['operator', 'list'], 'operator has no command "list": create'],
      [['tenant', 'create', '--name', 'Acme'], 'tenant create needs --admin-email'],
      [['tenant', 'create', '--admin-email', 'a@acme.test'], 'tenant create needs --name'],
      [['tenant', 'create', '--name', '  ', '--admin-email', 'a@acme.test'], 'tenant create: --name is empty'],
      [['tenant', 'create', '--name', 'A', '--admin-email', 'a@a.test', '--admin-name', ''], '--admin-name is empty'],
      [['tenant', 'create', '--name'], 'tenant create: --name needs a value'],
      [['tenant', 'create', '--name', 'A', '--admin-email', 'a@a.test', '--plan', 'x'], 'has no option --plan'],
      [['tenant', 'list', 'all'], 'tenant list takes no argument "all"'],
      [['operator', 'create'], 'operator create needs --email'],
      [['migrate', '--force'], 'migrate has no option --force'],
    ];
    for (const [argv, message] of cases) {
      const said = refusal(argv);
      expect(said, argv.join(' ')).toContain(message);
      expect(said, argv.join(' ')).not.toContain('\n');
    }
  });
});
