import { BusyError } from '../../errors.js';

/**
 * A small admission queue: at most `slots` tasks run at once, the next `maxWaiting` wait their turn in
 * order, and any more are refused at once with a BusyError (503, Retry-After), so a burst costs a short
 * wait rather than memory and every CPU. Per process: each instance admits its own share.
 */
export type Admission = {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** tasks running and waiting now (for logs and tests) */
  load(): { running: number; waiting: number };
};

export function admissionQueue(opts: { slots: number; maxWaiting: number; busyMessage: string }): Admission {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  };
  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (running >= opts.slots) {
        if (waiting.length >= opts.maxWaiting) throw new BusyError(opts.busyMessage);
        // the slot passes straight from the task that ends to the one that waited longest
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else running += 1;
      try {
        return await task();
      } finally {
        release();
      }
    },
    load: () => ({ running, waiting: waiting.length }),
  };
}
