import { z } from 'zod';
import { ConflictError, ValidationError } from '../errors.js';

/**
 * A form field as text: missing or repeated fields read as '' so the service, which owns the
 * rules, answers with a message next to the field instead of the route failing on shape.
 */
export const formText = (max = Infinity) =>
  z
    .unknown()
    .optional()
    .transform((v) => (typeof v === 'string' ? v.slice(0, max) : ''));

/** A record's id in the path, as text: the service answers 404 for one that names nothing in reach. */
export const idParam = formText(100);

/**
 * Bad input re-renders the form with the messages (422); a refused change shows its reason (409),
 * at the top of the form or, with `conflictAt`, next to the field the reason is about.
 */
export async function orRerender(
  change: () => Promise<void>,
  rerender: (errors: Record<string, string>, status: number) => Promise<void> | void,
  { conflictAt = 'form' }: { conflictAt?: string } = {},
) {
  try {
    await change();
  } catch (err) {
    if (err instanceof ValidationError) return rerender(err.fields, 422);
    if (err instanceof ConflictError) return rerender({ [conflictAt]: err.message }, 409);
    throw err;
  }
}
