import { parseCommand, UsageError, USAGE } from './cli/parse.js';

/**
 * `portico …`, the command line for operators (the package's bin, through bin/portico.js): it makes
 * tenants and operators, lists tenants and migrates, with the server's environment. Bad arguments or
 * input: one line on stderr and exit code 2; any other failure: one line and exit code 1.
 */
const io = {
  out: (line: string) => void process.stdout.write(`${line}\n`),
  err: (line: string) => void process.stderr.write(`${line}\n`),
};
const oneLine = (message: string) => message.replace(/\s*\n\s*/g, ' ');

try {
  const command = parseCommand(process.argv.slice(2));
  if (command.name === 'help') io.out(USAGE.trimEnd());
  else {
    // the database and the services load only for a command that will use them: a typo is answered at once
    const [{ loadConfig }, { runCommand }] = await Promise.all([import('./config.js'), import('./cli/commands.js')]);
    await runCommand(command, loadConfig(), io);
  }
} catch (err) {
  if (err instanceof UsageError) {
    io.err(`portico: ${oneLine(err.message)}`);
    process.exitCode = 2;
  } else {
    const { isDatabaseUnavailable } = await import('./errors.js');
    const message = err instanceof Error ? err.message : String(err ?? 'failed');
    const where = process.env.DATABASE_URL ? 'DATABASE_URL' : 'the embedded PostgreSQL of DATA_DIR';
    io.err(`portico: ${isDatabaseUnavailable(err) ? `cannot reach the database (${where}): ` : ''}${oneLine(message)}`);
    process.exitCode = 1;
  }
}
