import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { BadRequestError, ConflictError, NotFoundError, TooManyRequestsError, ValidationError } from '../errors.js';
import { msg, type Msg } from '../services/platform/i18n.js';
import { cutText, isStorableText, pageSizeOf, toStorableText } from '../services/platform/index.js';

/**
 * A form field as text: missing or repeated fields read as '' so the service, which owns the
 * rules, answers with a message next to the field instead of the route failing on shape.
 */
export const formText = (max = Infinity) =>
  z
    .unknown()
    .optional()
    .transform((v) => (typeof v === 'string' ? cutText(v, max) : ''));

/** A field sent any number of times (checkboxes of one name): the texts sent, at most `max` of them. */
export const formList = (max = 100) =>
  z
    .unknown()
    .optional()
    .transform((v) => (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x) => typeof x === 'string'))
    .transform((list) => (list as string[]).slice(0, max));

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

// ---- text PostgreSQL cannot store (NUL, an unpaired surrogate), caught once for every page and form ----

export const UNSTORABLE_FIELD_MESSAGE = msg(
  'This holds a character that cannot be stored (a NUL or an unpaired surrogate), shown here as �.',
);

/** Whether a value from a query string or a body holds such text anywhere (iteratively: JSON may nest deep). */
function holdsUnstorable(value: unknown, replace: boolean): boolean {
  let found = false;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') found ||= !isStorableText(v);
    else if (v && typeof v === 'object')
      for (const [k, item] of Object.entries(v)) {
        if (replace && typeof item === 'string' && !isStorableText(item))
          (v as Record<string, unknown>)[k] = toStorableText(item);
        stack.push(item);
      }
  }
  return found;
}

/** The first query parameter holding such text (by name or value), or null. */
export function unstorableQueryParameter(query: Record<string, unknown>): string | null {
  const bad = Object.entries(query).find(([name, value]) => !isStorableText(name) || holdsUnstorable(value, false));
  return bad ? toStorableText(bad[0]) : null;
}

/** The form fields of this request that held such text, for `orRerender`. */
const unstorableFields = new AsyncLocalStorage<Record<string, string>>();

/**
 * Every page and form: a path holding a NUL names nothing (404); a query string holding such text
 * answers 400; a form field holding it has it replaced by U+FFFD and is remembered, so that
 * `orRerender` shows the form again with the message next to the field (422) instead of making the
 * change. Mounted after the body parsers, once, so no route checks it itself.
 */
export function storableInput(): RequestHandler {
  return (req, _res, next) => {
    if (/%00/.test(req.path)) throw new NotFoundError();
    const parameter = unstorableQueryParameter(req.query as Record<string, unknown>);
    if (parameter !== null)
      throw new BadRequestError(
        'The address\'s parameter "{parameter}" holds a character that cannot be used.',
      ).withValues({ parameter });
    const fields: Record<string, string> = {};
    const body: unknown = req.body;
    if (body && typeof body === 'object')
      for (const [name, value] of Object.entries(body)) {
        const bad = typeof value === 'string' ? !isStorableText(value) : holdsUnstorable(value, true);
        if (!bad) continue;
        fields[toStorableText(name)] = UNSTORABLE_FIELD_MESSAGE;
        if (typeof value === 'string') (body as Record<string, unknown>)[name] = toStorableText(value);
      }
    // the store is entered only for such a request: async context tracking costs every request a little
    if (!Object.keys(fields).length) return next();
    unstorableFields.run(fields, next);
  };
}

/**
 * Bad input re-renders the form with the messages (422); a refused change shows its reason (409).
 * A form holding text that cannot be stored is re-rendered (422) without making the change at all.
 */
export async function orRerender(
  change: () => Promise<void>,
  rerender: (errors: Record<string, Msg>, status: number, err: Refusal) => Promise<void> | void,
  opts: RerenderOptions = {},
) {
  const unstorable = unstorableFields.getStore();
  if (unstorable && Object.keys(unstorable).length) return rerender(unstorable, 422, new ValidationError(unstorable));
  try {
    await change();
  } catch (err) {
    if (err instanceof ValidationError) return rerender(err.fields, 422, err);
    if (err instanceof ConflictError && !opts.conflictPage) {
      return rerender({ [opts.conflictAt ?? 'form']: msg(err.message, err.values) }, 409, err);
    }
    if (err instanceof TooManyRequestsError && opts.limits)
      return rerender({ form: msg(err.message, err.values) }, 429, err);
    throw err;
  }
}
