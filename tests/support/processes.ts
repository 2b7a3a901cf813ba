import { spawn } from 'node:child_process';
import path from 'node:path';

/** The project's root: commands run from here, as `npm start` and `npx portico` do. */
export const ROOT = path.resolve(import.meta.dirname, '../..');

/** vitest sets BASE_URL for Vite's own use; a child process must not inherit it, nor the test's NODE_ENV. */
const CLEAN_ENV = { BASE_URL: '', NODE_ENV: '', LOG_LEVEL: 'warn' };

export type Finished = { code: number | null; stdout: string; stderr: string };

/** Runs a script of the project under tsx (as `npm start` and `npm run seed` do) to its end. */
export function runScript(script: string, args: string[], env: Record<string, string>): Promise<Finished> {
  return run([process.execPath, '--import', 'tsx', script, ...args], env);
}

/** Runs the package's `portico` command, through the same file `npx portico` runs. */
export function runPortico(args: string[], env: Record<string, string>): Promise<Finished> {
  return run([process.execPath, 'bin/portico.js', ...args], env);
}

function run([cmd, ...args]: string[], env: Record<string, string>): Promise<Finished> {
  const child = spawn(cmd!, args, { cwd: ROOT, env: { ...process.env, ...CLEAN_ENV, ...env }, stdio: 'pipe' });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export type RunningServer = { out: () => string; stop: () => Promise<{ code: number | null; out: string }> };

/**
 * Starts the server as `npm start` does, with `env`, and resolves once `until` shows in its output;
 * rejects with the output when the process ends first.
 */
export function startServer(env: Record<string, string>, until: RegExp): Promise<RunningServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...CLEAN_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const stop = () =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      if (child.exitCode !== null) return resolve({ code: child.exitCode, out });
      child.once('exit', (code) => resolve({ code, out }));
      child.kill('SIGINT');
    });
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (until.test(out)) resolve({ out: () => out, stop });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready:\n${out}`)));
  });
}
