import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';

/**
 * Every process the scale test starts is a child of the script, under coreutils' `timeout`, so that it is
 * gone after its lifetime even if the script itself is killed. `timeout` leads its own process group:
 * a signal to the group reaches the program too. Output goes to a log file per process.
 */

export type Child = {
  readonly name: string;
  /** the pid of `timeout`, leader of the child's process group */
  readonly pid: number;
  readonly exited: Promise<number | null>;
  running(): boolean;
  /** a signal to the program (timeout passes it on): SIGINT or SIGTERM for a clean stop */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL to the whole group, program and `timeout` alike */
  kill(): void;
  /** asks for a clean stop, and kills the group if it has not stopped after `graceMs` */
  stop(sig?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
  tail(lines?: number): string;
};

const children = new Set<Child>();

export function startChild(
  name: string,
  command: string,
  args: string[],
  opts: SpawnOptions & { lifetimeSeconds: number; logDir: string; stopSignal?: NodeJS.Signals },
): Child {
  const { lifetimeSeconds, logDir, stopSignal = 'SIGTERM', ...spawnOpts } = opts;
  const signalName = stopSignal.replace(/^SIG/, '');
  const proc: ChildProcess = spawn(
    'timeout',
    ['-s', signalName, '-k', '15', String(lifetimeSeconds), command, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts },
  );
  const log: WriteStream = createWriteStream(path.join(logDir, `${name}.log`), { flags: 'a' });
  const recent: string[] = [];
  const keep = (d: Buffer) => {
    log.write(d);
    recent.push(...d.toString().trimEnd().split('\n'));
    recent.splice(0, Math.max(0, recent.length - 200));
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let alive = true;
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code, sig) => {
      alive = false;
      children.delete(child);
      log.end();
      resolve(code ?? (sig ? -1 : null));
    }),
  );
  const killGroup = () => {
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      proc.kill('SIGKILL');
    }
  };
  const child: Child = {
    name,
    pid: proc.pid!,
    exited,
    running: () => alive,
    signal: (sig) => void (alive && proc.kill(sig)),
    kill: () => void (alive && killGroup()),
    async stop(sig = stopSignal, graceMs = 20_000) {
      if (!alive) return exited;
      proc.kill(sig);
      const timer = setTimeout(killGroup, graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    tail: (lines = 30) => recent.slice(-lines).join('\n'),
  };
  children.add(child);
  return child;
}

/** Stops every child still running, politely first; what refuses within the grace is killed. */
export async function stopAll(graceMs = 15_000): Promise<void> {
  await Promise.all([...children].map((c) => c.stop(undefined, graceMs)));
}

/** The last resort when the script exits abruptly: SIGKILL to every group still alive (synchronous). */
export function killAll(): void {
  for (const c of children) c.kill();
}
