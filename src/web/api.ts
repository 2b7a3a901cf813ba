import { createHash } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import type { AppContext } from '../context.js';
import {
  AppError,
  BadRequestError,
  isDatabaseUnavailable,
  NotFoundError,
  RecordsError,
  TooManyRequestsError,
  UnauthorizedError,
} from '../errors.js';
import {
  type ApiAnswer,
  type ApiClient,
  type ApiScope,
  assertScope,
  authenticateApiRequest,
  ingestBatch,
  type IngestKind,
  API_SCOPES,
  type FieldSpec,
  ISO_TIME,
  MAX_BATCH,
  type RecordSpec,
  runIdempotent,
} from '../services/integration/index.js';
import { countRequest, isStorableText, UNSTORABLE_TEXT_MESSAGE } from '../services/platform/index.js';
import { unstorableQueryParameter } from './forms.js';

/**
 * The integration API under /api/v1: JSON in and out, authenticated by a tenant's API key
 * (`Authorization: Bearer pk_…`), never by a session, so it needs no CSRF token. Each area adds an
 * ApiModule (its routes and their OpenAPI description) to MODULES; /api/v1/openapi.json is built
 * from them, and a test checks the document against Express's route table.
 */

declare module 'express-serve-static-core' {
  interface Request {
    apiClient?: ApiClient;
    /** the scopes the documented operation this request addresses needs */
    apiScopes?: ApiScope[];
    /** SHA-256 of the raw request body, for Idempotency-Key checks */
    bodyHash?: Buffer;
  }
}

type OpenApiObject = Record<string, unknown>;

export type ApiModule = {
  /** OpenAPI 3.1 path items, keyed by path under /api/v1 in OpenAPI form (`/invoices/{id}`) */
  paths: Record<string, OpenApiObject>;
  /** shared schemas, referenced as `#/components/schemas/<name>` */
  schemas?: Record<string, OpenApiObject>;
  mount(router: Router, ctx: AppContext): void;
};

/** The answers every authenticated operation can give besides its own. */
export const COMMON_RESPONSES = {
  '400': { $ref: '#/components/responses/BadRequest' },
  '401': { $ref: '#/components/responses/Unauthorized' },
  '429': { $ref: '#/components/responses/TooManyRequests' },
  '503': { $ref: '#/components/responses/Unavailable' },
};

/** What an operation that reads a body can answer besides its own (the body is read only for these methods). */
const BODY_RESPONSES = {
  '413': { $ref: '#/components/responses/TooLarge' },
  '415': { $ref: '#/components/responses/UnsupportedBody' },
};
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * An operation's description with the common answers added. `scope` is what the key must be allowed
 * (none: any key); the router enforces it from this very description (`x-scopes`), so the document
 * and the check cannot disagree.
 */
export function operation(op: {
  summary: string;
  description?: string;
  scope?: ApiScope;
  requestBody?: OpenApiObject;
  parameters?: OpenApiObject[];
  responses: Record<string, OpenApiObject>;
}): OpenApiObject {
  const { scope, ...rest } = op;
  const scopes = scope ? [scope] : [];
  return {
    ...rest,
    security: [{ apiKey: scopes }],
    'x-scopes': scopes,
    responses: {
      ...(op.requestBody ? BODY_RESPONSES : {}),
      ...(scope ? { '403': { $ref: '#/components/responses/Forbidden' } } : {}),
      ...op.responses,
      ...COMMON_RESPONSES,
    },
  };
}

export function openApiDocument(baseUrl: string, modules: ApiModule[]): OpenApiObject {
  const error = { type: 'object', required: ['error'], properties: { error: { type: 'string' } } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Portico integration API',
      version: '1',
      description:
        'Send data from other systems into Portico and read what billing systems need. ' +
        'Authenticate with a tenant API key (created by a tenant admin under API keys) ' +
        'as `Authorization: Bearer <key>`. Writes take an `Idempotency-Key` header: ' +
        'the same key and body again returns the first answer with `Idempotent-Replayed: true` and writes nothing; ' +
        'the same key with another body is refused with 409. An Idempotency-Key counts for the API key that sent it ' +
        'and the method and path it was sent to; GET requests ignore it. ' +
        'A batch with any bad record is refused with 422, ' +
        'names each bad record by its index (from 0), and writes nothing. ' +
        'Text may hold any character but NUL (U+0000) and unpaired UTF-16 surrogates, which cannot be stored: ' +
        "they are refused, 422 in a record's field and 400 in a query parameter. Lengths count characters.",
    },
    servers: [{ url: `${baseUrl}/api/v1` }],
    paths: Object.assign({}, ...modules.map((m) => m.paths)),
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A tenant API key, `pk_` and 43 more characters. A key has scopes, chosen when it is made: ' +
            `${API_SCOPES.map((s) => `\`${s}\``).join(', ')}. Each operation lists the scope it needs ` +
            'in its security requirement and in `x-scopes`; a key without it is refused with 403.',
        },
      },
      schemas: {
        Error: error,
        RecordErrors: {
          type: 'object',
          required: ['errors'],
          properties: {
            errors: {
              type: 'array',
              description:
                'Each problem of each bad record, in record order; ' +
                `at most the first ${MAX_RECORD_ERRORS.toLocaleString('en-GB')}`,
              maxItems: MAX_RECORD_ERRORS,
              items: {
                type: 'object',
                required: ['index', 'field', 'message'],
                properties: {
                  index: { type: 'integer', minimum: 0 },
                  field: { type: 'string' },
                  message: { type: 'string' },
                },
              },
            },
          },
        },
        ...Object.assign({}, ...modules.map((m) => m.schemas ?? {})),
      },
      responses: {
        BadRequest: {
          description:
            'A query parameter holds a NUL or an unpaired surrogate, ' +
            'or the body is not JSON or not what the operation reads',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        Forbidden: {
          description: "The API key's scopes do not include the one this operation needs",
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        TooLarge: {
          description: 'The body is larger than 8 MB',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        UnsupportedBody: {
          description:
            'The body is not in UTF-8, or compressed other than with gzip, deflate or br (`Content-Encoding`)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        Unavailable: {
          description: 'The database is briefly unavailable; try again after `Retry-After` seconds',
          headers: { 'Retry-After': { schema: { type: 'integer' } } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        Unauthorized: {
          description: 'No API key, or a wrong or revoked one',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        TooManyRequests: {
          description:
            'Too many requests with this key (or too many wrong keys from this address); wait `Retry-After` seconds',
          headers: { 'Retry-After': { schema: { type: 'integer' } } },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
        RecordErrors: {
          description: 'Bad records; nothing was written',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/RecordErrors' } } },
        },
        Conflict: {
          description: 'The Idempotency-Key was used for another request',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
  };
}

/** The header parameter every write documents. */
export const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: true,
  description:
    'A key of your choosing (1 to 200 visible characters), new for each new request; reuse it only to retry.',
  schema: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[!-~]+$' },
};

/** An API handler is handed the key's client, typed, so none is read off `req`. */
export type ClientHandler = (req: Request, res: Response, client: ApiClient) => unknown;

/** The handler of an operation: `router.get('/key', withClient(async (req, res, client) => { … }))`. */
export function withClient(handle: ClientHandler): RequestHandler {
  return (req, res) => {
    // the router authenticates before any operation; one mounted elsewhere fails loudly instead of acting as nobody
    if (!req.apiClient) throw new Error(`no API client on ${req.method} ${req.path}: the route is not under /api/v1`);
    return handle(req, res, req.apiClient) as Promise<void>;
  };
}

/** A request's query or body read by the operation's schema; the first thing wrong answers 400 with its message. */
export function apiInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success)
    throw new BadRequestError(parsed.error.issues[0]?.message ?? 'The request could not be understood.');
  return parsed.data;
}

/**
 * Runs a write under the request's Idempotency-Key and sends its answer (or the first answer again).
 * `work` gets a transaction bound to the key's tenant; throwing (RecordsError for bad records)
 * writes nothing.
 */
export async function sendIdempotent(
  ctx: AppContext,
  client: ApiClient,
  req: Request,
  res: Response,
  work: Parameters<typeof runIdempotent>[2],
): Promise<void> {
  const key = req.get('Idempotency-Key')?.trim() ?? '';
  if (!/^[\x21-\x7e]{1,200}$/.test(key))
    throw new BadRequestError('Send an Idempotency-Key header: 1 to 200 visible characters, new for each new request.');
  const answer: ApiAnswer & { replayed: boolean } = await runIdempotent(
    ctx.db,
    {
      tenantId: client.tenantId,
      apiKeyId: client.keyId,
      method: req.method,
      path: req.baseUrl + req.path,
      key,
      requestHash: req.bodyHash ?? createHash('sha256').digest(),
    },
    work,
  );
  if (answer.replayed) res.set('Idempotent-Replayed', 'true');
  res.status(answer.status).json(answer.body);
}

// ---- batches of records (locations, usage records): 1 to 10,000 a request, all written or none ----

/** A refused batch lists at most this many problems (in record order), however many records it has. */
export const MAX_RECORD_ERRORS = 1000;

/**
 * The records of a batch, `{"records": [...]}` of `min` to `max`; anything else is refused with what
 * to send instead. Text PostgreSQL cannot store is refused here, for every operation at once, by
 * record and field (422), before any record is looked at further.
 */
export function batchRecords(req: Request, { min = 1, max = MAX_BATCH } = {}): unknown[] {
  const body = req.body as { records?: unknown } | undefined;
  if (!body || typeof body !== 'object' || !Array.isArray(body.records))
    throw new BadRequestError('Send a JSON object {"records": [...]}.');
  if (body.records.length < min) throw new BadRequestError('Send at least one record.');
  if (body.records.length > max)
    throw new BadRequestError(
      `A batch holds at most ${max.toLocaleString('en-GB')} records; ` +
        `this one has ${body.records.length.toLocaleString('en-GB')}. Split it.`,
    );
  const unstorable = body.records.flatMap((record, index) =>
    record && typeof record === 'object' && !Array.isArray(record)
      ? Object.entries(record as Record<string, unknown>)
          .filter(([, value]) => typeof value === 'string' && !isStorableText(value))
          .map(([field]) => ({ index, field, message: UNSTORABLE_TEXT_MESSAGE }))
      : [],
  );
  if (unstorable.length) throw new RecordsError(unstorable);
  return body.records;
}

/** The operation that takes a batch of one kind: every record is checked, then all are written or none. */
export function batchRoute<I, R>(ctx: AppContext, kind: IngestKind<I, R>): RequestHandler {
  return withClient(async (req, res, client) => {
    const records = batchRecords(req);
    await sendIdempotent(ctx, client, req, res, async (trx) => {
      const result = await ingestBatch(trx, client.tenantId, kind, records);
      if ('errors' in result) throw new RecordsError(result.errors);
      return { status: 200, body: { accepted: result.accepted } };
    });
  });
}

/** A time as the API reads it: ISO 8601 with a zone, a real time. */
export const DATE_TIME = {
  type: 'string',
  format: 'date-time',
  pattern: ISO_TIME.source,
  description: 'ISO 8601 with a zone, e.g. 2026-12-01T08:30:00Z',
};

const withNull = (type: string) => [type, 'null'];

function fieldSchema(spec: FieldSpec, required: boolean): OpenApiObject {
  const about = spec.description ? { description: spec.description } : {};
  switch (spec.type) {
    case 'text':
      // trimmed by the check: a required text needs a character other than a space
      return required
        ? { type: 'string', minLength: 1, maxLength: spec.max, pattern: '\\S', ...about }
        : { type: withNull('string'), maxLength: spec.max, ...about };
    case 'number':
      return {
        type: required ? (spec.integer ? 'integer' : 'number') : withNull(spec.integer ? 'integer' : 'number'),
        minimum: spec.min,
        maximum: spec.max,
        ...(spec.default === undefined ? {} : { default: spec.default }),
        ...about,
      };
    case 'time':
      return { ...DATE_TIME, ...about };
    case 'choice':
      return { type: 'string', enum: [...spec.values], ...about };
  }
}

/**
 * The JSON Schema of a kind of record, generated from the field specifications its check reads
 * (`RecordSpec`), so the document says exactly what the check accepts.
 */
export function recordSchema(spec: RecordSpec): OpenApiObject {
  const isRequired = (f: FieldSpec) => f.type === 'time' || f.type === 'choice' || !!f.required;
  const fields = Object.entries(spec.fields);
  const { oneOfRequired: either, onlyWhen: only } = spec;
  return {
    type: 'object',
    required: fields.filter(([, f]) => isRequired(f)).map(([name]) => name),
    properties: Object.fromEntries(fields.map(([name, f]) => [name, fieldSchema(f, isRequired(f))])),
    ...(either
      ? {
          anyOf: either.fields.map((f) => ({
            required: [f],
            properties: { [f]: { type: 'string', pattern: '\\S' } },
          })),
        }
      : {}),
    ...(only
      ? {
          allOf: [
            {
              if: { required: [only.field], properties: { [only.field]: { not: { enum: [...only.values] } } } },
              then: { properties: Object.fromEntries(only.fields.map((f) => [f, { type: 'null' }])) },
            },
          ],
        }
      : {}),
  };
}

/** The description of a batch operation, whose records are of the schema named `schema`. */
export const batchOperation = (
  summary: string,
  description: string,
  schema: string,
  scope: ApiScope,
  { min = 1, max = MAX_BATCH } = {},
) =>
  operation({
    summary,
    description,
    scope,
    parameters: [IDEMPOTENCY_KEY_PARAMETER],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            required: ['records'],
            properties: {
              records: {
                type: 'array',
                minItems: min,
                maxItems: max,
                items: { $ref: `#/components/schemas/${schema}` },
              },
            },
          },
        },
      },
    },
    responses: {
      '200': {
        description:
          'Every record was accepted (or, with `Idempotent-Replayed: true`, ' +
          'this is the answer to the first request with this key)',
        headers: { 'Idempotent-Replayed': { schema: { type: 'string', enum: ['true'] } } },
        content: {
          'application/json': {
            schema: { type: 'object', required: ['accepted'], properties: { accepted: { type: 'integer' } } },
          },
        },
      },
      '400': {
        description:
          'No Idempotency-Key, or the body is not {"records": [...]} of ' +
          `${min.toLocaleString('en-GB')} to ${max.toLocaleString('en-GB')} records`,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      '409': { $ref: '#/components/responses/Conflict' },
      '422': { $ref: '#/components/responses/RecordErrors' },
    },
  });

function authenticate(ctx: AppContext) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const now = ctx.clock.now();
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.get('Authorization') ?? '')?.[1] ?? null;
    const client = await authenticateApiRequest(ctx.db, { bearer, address: req.ip ?? 'unknown' }, now);
    await countRequest(ctx.db, `api-key:${client.keyId}`, ctx.config.apiRateLimit, now);
    req.apiClient = client;
    next();
  };
}

/** Every failure as JSON: bad records list each record; the rest carry one message. */
function apiErrors(ctx: AppContext) {
  return (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof RecordsError)
      return void res.status(422).json({ errors: err.errors.slice(0, MAX_RECORD_ERRORS) });
    if (err instanceof UnauthorizedError) res.set('WWW-Authenticate', 'Bearer realm="portico"');
    if (err instanceof TooManyRequestsError) res.set('Retry-After', String(err.retryAfterSeconds));
    if (err instanceof AppError) return void res.status(err.status).json({ error: err.message });
    const e = err as { status?: number; type?: string };
    if (e.type === 'entity.too.large')
      return void res.status(413).json({ error: 'The body is larger than the API accepts (8 MB).' });
    if (e.type === 'entity.parse.failed') return void res.status(400).json({ error: 'The body is not valid JSON.' });
    if (e.status === 415)
      return void res.status(415).json({
        error: 'Send the body as JSON in UTF-8, uncompressed or compressed with gzip, deflate or br.',
      });
    if (isDatabaseUnavailable(err))
      return void res
        .status(503)
        .set('Retry-After', '5')
        .json({ error: 'The service is briefly unavailable. Try again in a moment.' });
    if (e.status && e.status >= 400 && e.status < 500)
      return void res.status(e.status).json({ error: 'The request could not be understood.' });
    req.log?.error({ err }, 'api request failed');
    ctx.logger.debug({ err }, 'api request failed');
    res.status(500).json({ error: `An unexpected error stopped this request (request id ${String(req.id ?? '')}).` });
  };
}

type PathItem = { pattern: RegExp; operations: Map<string, ApiScope[]> };

/** The documented operations by path, as Express matches paths (any case, an optional trailing slash). */
function operationTable(doc: OpenApiObject): PathItem[] {
  return Object.entries(doc.paths as Record<string, Record<string, { 'x-scopes'?: ApiScope[] }>>).map(
    ([path, item]) => ({
      pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+')}/?$`, 'i'),
      operations: new Map(
        Object.entries(item)
          .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
          .map(([method, op]) => [method.toUpperCase(), op['x-scopes'] ?? []]),
      ),
    }),
  );
}

/**
 * A documented path asked with a method it does not take answers 405 with `Allow`, before any key is
 * checked (the document is public); a documented operation carries the scopes it needs to the check.
 */
function documentedOperations(table: PathItem[]): RequestHandler {
  return (req, res, next) => {
    const item = table.find((p) => p.pattern.test(req.path));
    if (!item) return next();
    const scopes = item.operations.get(req.method === 'HEAD' ? 'GET' : req.method);
    if (!scopes) {
      const allow = [...item.operations.keys()].flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
      res.set('Allow', allow.join(', '));
      res.status(405).json({ error: `This endpoint takes ${allow.join(', ')}. See /api/v1/openapi.json.` });
      return;
    }
    req.apiScopes = scopes;
    next();
  };
}

/** The /api/v1 router; mounted before sessions, CSRF and the form body parsers. */
export function apiRoutes(ctx: AppContext, modules: ApiModule[]): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(ctx.config.baseUrl, modules));
  });
  router.use(documentedOperations(operationTable(openApiDocument(ctx.config.baseUrl, modules))));
  router.use((req, _res, next) => {
    const parameter = unstorableQueryParameter(req.query as Record<string, unknown>);
    if (parameter !== null)
      throw new BadRequestError(`The query parameter "${parameter}" holds a character that cannot be stored.`);
    next();
  });
  // the key first: a request without a valid one is answered 401 before its body is read
  router.use(authenticate(ctx));
  router.use((req, _res, next) => {
    for (const scope of req.apiScopes ?? []) assertScope(req.apiClient!, scope);
    next();
  });
  const json = express.json({
    // a batch of 10,000 records is about 1.5 MB
    limit: '8mb',
    type: () => true,
    verify: (req, _res, buf) => {
      (req as Request).bodyHash = createHash('sha256').update(buf).digest();
    },
  });
  // only writes have a body: a GET's is never read, so it cannot fail on one
  router.use((req, res, next) => (BODY_METHODS.has(req.method) ? json(req, res, next) : next()));
  for (const m of modules) m.mount(router, ctx);
  router.use((_req, _res, next) => next(new NotFoundError('No such API endpoint. See /api/v1/openapi.json.')));
  router.use(apiErrors(ctx));
  return router;
}
