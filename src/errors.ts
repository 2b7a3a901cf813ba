import { msg, type MessageValues, type Msg } from './services/platform/i18n.js';

/**
 * Typed errors thrown by services; one error handler turns each into its response. A message is an
 * English catalog message (services/platform/i18n.ts), translated where it is shown; one with
 * placeholders carries their values (`new ConflictError('{name} is taken').withValues({ name })`).
 */
export class AppError extends Error {
  readonly status: number = 500;
  values?: MessageValues;

  withValues(values: MessageValues): this {
    this.values = values;
    return this;
  }
}

export class NotFoundError extends AppError {
  override readonly status = 404;
  constructor(message = msg('That page does not exist, or you cannot see it.')) {
    super(message);
  }
}

export class ForbiddenError extends AppError {
  override readonly status = 403;
  constructor(message = msg('Your role does not allow this.')) {
    super(message);
  }
}

export class ConflictError extends AppError {
  override readonly status = 409;
}

export class TooManyRequestsError extends AppError {
  override readonly status = 429;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** Bad input: a message per field, re-rendered next to the field with HTTP 422. */
export class ValidationError extends AppError {
  override readonly status = 422;
  constructor(
    readonly fields: Record<string, Msg>,
    message = msg('Please correct the fields marked below.'),
  ) {
    super(message);
  }
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03', // admin shutdown, crash shutdown, cannot connect now
  '08000',
  '08001',
  '08003',
  '08006', // connection exceptions
  // PgBouncer's own refusals while it cannot reach PostgreSQL: "server login has been failing",
  // "query_wait_timeout", "no more connections allowed"
  '08P01',
]);

/** True when the database cannot be reached right now: the request deserves a 503, not a 500. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (err.name === 'KnexTimeoutError') return true;
  return /Connection terminated|connect ECONNREFUSED|Client has encountered a connection error/.test(err.message);
}

/** This instance already does as much of something as it takes at once (uploads, exports): 503, try again soon. */
export class BusyError extends AppError {
  override readonly status = 503;
}

/** A request the API cannot take as sent (a missing header, a body that is not what the endpoint reads). */
export class BadRequestError extends AppError {
  override readonly status = 400;
}

/** No or a wrong API key: the API answers 401 and says how to authenticate. */
export class UnauthorizedError extends AppError {
  override readonly status = 401;
}

export type RecordError = { index: number; field: string; message: string };

/** A batch with bad records: each named by its index (from 0), field and reason; nothing is written. */
export class RecordsError extends AppError {
  override readonly status = 422;
  constructor(readonly errors: RecordError[]) {
    super(`${errors.length} record${errors.length === 1 ? '' : 's'} could not be accepted.`);
  }
}
