import { spawn } from 'node:child_process';

export type Child = {
  pid: number;
  /** everything printed so far, stdout and stderr together */
  out: () => string;
  /** resolves with the output once `pattern` appears; rejects if the process ends first */
  waitFor: (pattern: RegExp) => Promise<string>;
  /** the exit code (null when a signal ended it) */
  exited: Promise<number | null>;
  /** signals the process and the processes it started */
  signal: (signal: NodeJS.Signals) => void;
};

/** A real process of the app, its output collected; it is killed when the test file's process ends. */
export function startProcess(
  command: string,
  args: string[],
  opts: { cwd: string; env: Record<string, string> },
): Child {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    // vitest sets BASE_URL for Vite's own use; the app must not inherit it
    env: { ...process.env, BASE_URL: '', NODE_OPTIONS: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // a group of its own, signalled whole as a terminal or systemd does (npm's shell passes no signal on)
    detached: true,
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const signal = (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, name);
  };
  process.once('exit', () => signal('SIGKILL'));
  return {
    pid: child.pid!,
    out: () => out,
    exited,
    signal,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(out)) return;
          listeners.delete(check);
          resolve(out);
        };
        listeners.add(check);
        check();
        void exited.then((code) => {
          if (listeners.delete(check)) reject(new Error(`exited with ${code} before ${pattern}:\n${out}`));
        });
      }),
  };
}
