import { z } from 'zod';
import { insertServiceVisits, MAX_VISIT_BATCH, type IncomingVisit } from '../../services/sites/index.js';
import {
  apiInput,
  IDEMPOTENCY_KEY_PARAMETER,
  operation,
  sendIdempotent,
  withClient,
  type ApiModule,
} from '../../web/api.js';

// the body's shape (400); each record is checked by the service, which answers 422 naming its index
const SEND_RECORDS = 'Send {"records": [...]}.';
const VisitsBody = z.object(
  {
    records: z
      .array(z.unknown(), { error: SEND_RECORDS })
      .max(MAX_VISIT_BATCH, { error: `Send at most ${MAX_VISIT_BATCH} records a request.` }),
  },
  { error: SEND_RECORDS },
);

/**
 * POST /api/v1/service-visits: visits of vehicles at sites, from a tracking or job system.
 * `paths` is a getter: api.ts imports this module, so what it exports is read only once both have loaded.
 */
export const serviceVisitsApi: ApiModule = {
  get paths() {
    return {
      '/service-visits': {
        post: operation({
          summary: 'Record service visits',
          description:
            `Up to ${MAX_VISIT_BATCH.toLocaleString('en-GB')} visits a request. ` +
            "A visit is one vehicle at one site, for one service (named as in Portico's Sites page), " +
            'with its start and end; ' +
            "a completed visit turns the site green on its customer's map for the days it overlaps.",
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
                      maxItems: MAX_VISIT_BATCH,
                      items: { $ref: '#/components/schemas/ServiceVisit' },
                    },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'All visits recorded',
              content: {
                'application/json': {
                  schema: { type: 'object', required: ['accepted'], properties: { accepted: { type: 'integer' } } },
                },
              },
            },
            '400': {
              description: 'No Idempotency-Key, or a body without a records array',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            },
            '409': { $ref: '#/components/responses/Conflict' },
            '422': { $ref: '#/components/responses/RecordErrors' },
          },
        }),
      },
    };
  },
  schemas: {
    ServiceVisit: {
      type: 'object',
      required: ['site_id', 'vehicle', 'started_at', 'ended_at'],
      properties: {
        site_id: {
          type: 'string',
          format: 'uuid',
          description: 'The site, as in its Portico address /admin/sites/{id}',
        },
        service: { type: 'string', description: 'The name of one of your services (any case); omit when none' },
        vehicle: { type: 'string', minLength: 1, maxLength: 120 },
        started_at: { type: 'string', format: 'date-time' },
        ended_at: { type: 'string', format: 'date-time', description: 'Not before started_at; at most 7 days later' },
        completed: {
          type: 'boolean',
          default: true,
          description: 'Whether the service was done (false: the vehicle came but could not do it)',
        },
        notes: { type: 'string', maxLength: 2000 },
      },
    },
  },
  mount(router, ctx) {
    router.post(
      '/service-visits',
      withClient(async (req, res, client) => {
        const { records } = apiInput(VisitsBody, req.body);
        await sendIdempotent(ctx, client, req, res, async (trx) => ({
          status: 200,
          body: { accepted: await insertServiceVisits(trx, client.tenantId, records as IncomingVisit[], 'api') },
        }));
      }),
    );
  },
};
