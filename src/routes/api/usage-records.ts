import type { Request, Response } from 'express';
import type { AppContext } from '../../context.js';
import { BadRequestError, RecordsError } from '../../errors.js';
import {
  ingestBatch,
  locationKind,
  MAX_BATCH,
  usageRecordKind,
  type IngestKind,
} from '../../services/integration/index.js';
import { DIRECTIONS, PRODUCTS, USAGE_STATUSES } from '../../services/billing/index.js';
import { IDEMPOTENCY_KEY_PARAMETER, operation, sendIdempotent, type ApiModule } from '../../web/api.js';

/** POST /api/v1/locations and /api/v1/usage-records: batches of up to 10,000 records, all or nothing. */

function recordsOf(req: Request): unknown[] {
  const body = req.body as { records?: unknown } | undefined;
  if (!body || typeof body !== 'object' || !Array.isArray(body.records))
    throw new BadRequestError('Send a JSON object {"records": [...]}.');
  if (body.records.length === 0) throw new BadRequestError('Send at least one record.');
  if (body.records.length > MAX_BATCH)
    throw new BadRequestError(
      `A batch holds at most ${MAX_BATCH.toLocaleString('en-GB')} records; this one has ${body.records.length.toLocaleString('en-GB')}. Split it.`,
    );
  return body.records;
}

function ingestRoute<I, R>(ctx: AppContext, kind: IngestKind<I, R>) {
  return async (req: Request, res: Response) => {
    const records = recordsOf(req);
    await sendIdempotent(ctx, req, res, async (trx) => {
      const result = await ingestBatch(trx, req.apiClient!.tenantId, kind, records);
      if ('errors' in result) throw new RecordsError(result.errors);
      return { status: 200, body: { accepted: result.accepted } };
    });
  };
}

const time = { type: 'string', format: 'date-time', description: 'ISO 8601 with a zone, e.g. 2026-12-01T08:30:00Z' };

const batchOperation = (summary: string, description: string, schema: string) =>
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
          'Every record was accepted (or, with `Idempotent-Replayed: true`, this is the answer to the first request with this key)',
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

const paths = () => ({
  '/locations': {
    post: batchOperation(
      'Send device locations',
      "Positions of devices, named by their identifier (IMEI or serial). Each asset's last location becomes the newest position received; " +
        'older positions are kept in its track without moving it back. A position of a device at a time already received is ignored, ' +
        'so sending a batch again changes nothing. An identifier that names no asset of your tenant is an error of that record.',
      'Location',
    ),
  },
  '/usage-records': {
    post: batchOperation(
      'Send usage records',
      'Metered usage (voice calls, SMS, video sessions, messaging-app messages), each of an asset (identifier) or of a customer (account_id), ' +
        'or both when they agree. Prices are in integer minor units of the customer’s currency.',
      'UsageRecord',
    ),
  },
});

// api.ts lists this module and this module uses api.ts's helpers: the description is built when
// the document is, so neither module needs the other fully loaded first
export const ingestionApi: ApiModule = {
  get paths() {
    return paths();
  },
  schemas: {
    Location: {
      type: 'object',
      required: ['identifier', 'latitude', 'longitude', 'recorded_at'],
      properties: {
        identifier: { type: 'string', maxLength: 64 },
        latitude: { type: 'number', minimum: -90, maximum: 90 },
        longitude: { type: 'number', minimum: -180, maximum: 180 },
        recorded_at: time,
      },
    },
    UsageRecord: {
      type: 'object',
      required: ['product', 'occurred_at', 'direction', 'status', 'from_number', 'to_number'],
      properties: {
        identifier: {
          type: 'string',
          maxLength: 64,
          description: 'The asset (SIM or device); required unless account_id is given',
        },
        account_id: { type: 'string', maxLength: 32, description: 'The customer; required unless identifier is given' },
        product: { type: 'string', enum: [...PRODUCTS] },
        occurred_at: time,
        direction: { type: 'string', enum: [...DIRECTIONS] },
        status: { type: 'string', enum: [...USAGE_STATUSES] },
        from_number: { type: 'string', maxLength: 32 },
        to_number: { type: 'string', maxLength: 32 },
        duration_seconds: { type: 'integer', minimum: 0, default: 0 },
        units: { type: 'integer', minimum: 0, default: 1 },
        price_minor: {
          type: 'integer',
          description:
            "minor units; omitted, the customer's price list in force at occurred_at prices the record (0 without one)",
        },
        contact_name: { type: 'string', maxLength: 200, description: 'SMS and messaging only' },
        content: { type: 'string', maxLength: 5000, description: 'SMS and messaging only' },
      },
    },
  },
  mount(router, ctx) {
    router.post('/locations', ingestRoute(ctx, locationKind));
    router.post('/usage-records', ingestRoute(ctx, usageRecordKind));
  },
};
