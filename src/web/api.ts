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
  authenticateApiKey,
  ingestBatch,
  type IngestKind,
  MAX_BATCH,
  runIdempotent,
} from '../services/integration/index.js';
import { countRequest, LIMITS, recordFailure } from '../services/platform/index.js';

/**
 * The integration API under /api/v1: JSON in and out, authenticated by a tenant's API key
 * (`Authorization: Bearer pk_…`), never by a session, so it needs no CSRF token. Each area adds an
 * ApiModule (its routes and their OpenAPI description) to MODULES; /api/v1/openapi.json is built
 * from them, and a test checks the document against Express's route table.
 */

declare module 'express-serve-static-core' {
  interface Request {
    apiClient?: ApiClient;
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
  '401': { $ref: '#/components/responses/Unauthorized' },
  '429': { $ref: '#/components/responses/TooManyRequests' },
};

/** An operation's description with the common answers added. */
export function operation(op: {
  summary: string;
  description?: string;
  requestBody?: OpenApiObject;
  parameters?: OpenApiObject[];
  responses: Record<string, OpenApiObject>;
}): OpenApiObject {
  return { ...op, security: [{ apiKey: [] }], responses: { ...op.responses, ...COMMON_RESPONSES } };
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
        'the same key with another body is refused with 409. A batch with any bad record is refused with 422, ' +
        'names each bad record by its index (from 0), and writes nothing.',
    },
    servers: [{ url: `${baseUrl}/api/v1` }],
    paths: Object.assign({}, ...modules.map((m) => m.paths)),
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A tenant API key, `pk_` and 43 more characters' },
      },
      schemas: {
        Error: error,
        RecordErrors: {
          type: 'object',
          required: ['errors'],
          properties: {
            errors: {
              type: 'array',
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
  schema: { type: 'string', minLength: 1, maxLength: 200 },
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
    { tenantId: client.tenantId, key, requestHash: req.bodyHash ?? createHash('sha256').digest() },
    work,
  );
  if (answer.replayed) res.set('Idempotent-Replayed', 'true');
  res.status(answer.status).json(answer.body);
}

// ---- batches of records (locations, usage records): 1 to 10,000 a request, all written or none ----

/** The records of a batch, `{"records": [...]}`; anything else is refused with what to send instead. */
export function batchRecords(req: Request): unknown[] {
  const body = req.body as { records?: unknown } | undefined;
  if (!body || typeof body !== 'object' || !Array.isArray(body.records))
    throw new BadRequestError('Send a JSON object {"records": [...]}.');
  if (body.records.length === 0) throw new BadRequestError('Send at least one record.');
  if (body.records.length > MAX_BATCH)
    throw new BadRequestError(
      `A batch holds at most ${MAX_BATCH.toLocaleString('en-GB')} records; ` +
        `this one has ${body.records.length.toLocaleString('en-GB')}. Split it.`,
    );
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

/** A time in a record: ISO 8601 with a zone. */
export const DATE_TIME = {
  type: 'string',
  format: 'date-time',
  description: 'ISO 8601 with a zone, e.g. 2026-12-01T08:30:00Z',
};

/** The description of a batch operation, whose records are of the schema named `schema`. */
export const batchOperation = (summary: string, description: string, schema: string) =>
  operation({
    summary,
    description,
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
                minItems: 1,
                maxItems: MAX_BATCH,
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
        description: 'No Idempotency-Key, or the body is not {"records": [...]} of 1 to 10,000 records',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
      '409': { $ref: '#/components/responses/Conflict' },
      '422': { $ref: '#/components/responses/RecordErrors' },
    },
  });

function authenticate(ctx: AppContext) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const now = ctx.clock.now();
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('Authorization') ?? '');
    const client = m ? await authenticateApiKey(ctx.db, m[1]!, now) : null;
    if (!client) {
      // keys carry 256 bits, but an address that keeps guessing is still stopped
      const locked = await recordFailure(ctx.db, `api-address:${req.ip ?? 'unknown'}`, LIMITS.tokenAddress, now);
      if (locked)
        throw new TooManyRequestsError(
          'Too many requests with wrong API keys from this address. Try again in 15 minutes.',
          15 * 60,
        );
      throw new UnauthorizedError(
        m
          ? 'This API key is not valid: it is wrong or has been revoked.'
          : 'Send an API key as "Authorization: Bearer <key>".',
      );
    }
    await countRequest(ctx.db, `api-key:${client.keyId}`, ctx.config.apiRateLimit, now);
    req.apiClient = client;
    next();
  };
}

/** Every failure as JSON: bad records list each record; the rest carry one message. */
function apiErrors(ctx: AppContext) {
  return (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof RecordsError) return void res.status(422).json({ errors: err.errors });
    if (err instanceof UnauthorizedError) res.set('WWW-Authenticate', 'Bearer realm="portico"');
    if (err instanceof TooManyRequestsError) res.set('Retry-After', String(err.retryAfterSeconds));
    if (err instanceof AppError) return void res.status(err.status).json({ error: err.message });
    const e = err as { status?: number; type?: string };
    if (e.type === 'entity.too.large')
      return void res.status(413).json({ error: 'The body is larger than the API accepts (8 MB).' });
    if (e.type === 'entity.parse.failed') return void res.status(400).json({ error: 'The body is not valid JSON.' });
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

/** The /api/v1 router; mounted before sessions, CSRF and the form body parsers. */
export function apiRoutes(ctx: AppContext, modules: ApiModule[]): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(ctx.config.baseUrl, modules));
  });
  // the key first: a request without a valid one is answered 401 before its body is read
  router.use(authenticate(ctx));
  router.use(
    express.json({
      // a batch of 10,000 records is about 1.5 MB
      limit: '8mb',
      type: () => true,
      verify: (req, _res, buf) => {
        (req as Request).bodyHash = createHash('sha256').update(buf).digest();
      },
    }),
  );
  for (const m of modules) m.mount(router, ctx);
  router.use((_req, _res, next) => next(new NotFoundError('No such API endpoint. See /api/v1/openapi.json.')));
  router.use(apiErrors(ctx));
  return router;
}
