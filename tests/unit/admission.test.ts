import { describe, expect, it } from 'vitest';
import { BusyError } from '../../src/errors.js';
import { admissionQueue } from '../../src/services/platform/admission.js';

/** A task that runs until the test lets it end. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, task: () => opened.then(() => 'done') };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('the admission queue for argon2 hashing', () => {
  it('runs at most its slots at once and lets the others in, in order, as tasks end', async () => {
    const queue = admissionQueue({ slots: 2, maxWaiting: 10, busyMessage: 'busy' });
    const gates = Array.from({ length: 4 }, gate);
    const started: number[] = [];
    const runs = gates.map((g, i) => queue.run(() => (started.push(i), g.task())));
    await flush();
    expect(started).toEqual([0, 1]);
    expect(queue.load()).toEqual({ running: 2, waiting: 2 });
    gates[1]!.open();
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.open();
    gates[2]!.open();
    gates[3]!.open();
    expect(await Promise.all(runs)).toEqual(['done', 'done', 'done', 'done']);
    expect(queue.load()).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses at once, with its message, past the waiting it admits; a failed task frees its slot', async () => {
    const queue = admissionQueue({ slots: 1, maxWaiting: 1, busyMessage: 'Many people are signing in.' });
    const first = gate();
    const running = queue.run(first.task);
    const waiting = queue.run(() => Promise.reject(new Error('wrong hash')));
    await flush();
    const refused = queue.run(() => Promise.resolve('never'));
    await expect(refused).rejects.toBeInstanceOf(BusyError);
    await expect(refused).rejects.toThrow('Many people are signing in.');
    first.open();
    expect(await running).toBe('done');
    await expect(waiting).rejects.toThrow('wrong hash');
    expect(queue.load()).toEqual({ running: 0, waiting: 0 });
    expect(await queue.run(() => Promise.resolve('again'))).toBe('again');
  });
});
