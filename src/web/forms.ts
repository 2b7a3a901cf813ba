import { z } from 'zod';
import { ConflictError, TooManyRequestsError, ValidationError } from '../errors.js';
import { pageSizeOf } from '../services/platform/index.js';

/**
 * A form field as text: missing or repeated fields read as '' so the service, which owns the
 * rules, answers with a message next to the field instead of the route failing on shape.
 */
export const formText = (max = Infinity) =>
  z
    .unknown()
    .optional()
    .transform((v) => (typeof v === 'string' ? v.slice(0, max) : ''));

/** A checkbox: a ticked box sends 'on', an unticked one nothing. */
export const formCheckbox = () => formText().transform((v) => v === 'on');

/** A record's id in the path, as text: one the service does not know (or cannot be an id) answers 404, not 400. */
export const idParam = () => formText(100);

/** A list's page size from the query string: one of the sizes every list offers, else the default (never an error). */
export const pageSizeParam = () =>
  z
    .unknown()
    .optional()
    .transform((v) => pageSizeOf(v));

/** What a form's service may refuse with; the rerender gets it for its message (`formError`) or the log. */
export type Refusal = ValidationError | ConflictError | TooManyRequestsError;

type RerenderOptions = {
  /** a refused change (409) shows its reason next to this field instead of at the top of the form */
  conflictAt?: string;
  /** a refused change (409) goes to the error page, for a form that has no place to show the reason */
  conflictPage?: boolean;
  /** a rate limit (429) shows its reason on the form too, as sign-in does; elsewhere it is the error page */
  limits?: boolean;
};

/** Bad input re-renders the form with the messages (422); a refused change shows its reason (409). */
export async function orRerender(
  change: () => Promise<void>,
  rerender: (errors: Record<string, string>, status: number, err: Refusal) => Promise<void> | void,
  opts: RerenderOptions = {},
) {
  try {
    await change();
  } catch (err) {
    if (err instanceof ValidationError) return rerender(err.fields, 422, err);
    if (err instanceof ConflictError && !opts.conflictPage) {
      return rerender({ [opts.conflictAt ?? 'form']: err.message }, 409, err);
    }
    if (err instanceof TooManyRequestsError && opts.limits) return rerender({ form: err.message }, 429, err);
    throw err;
  }
}
