import {
  insertServiceVisits,
  MAX_VEHICLE_LENGTH,
  MAX_VISIT_BATCH,
  MAX_VISIT_NOTES,
  type IncomingVisit,
} from '../../services/sites/index.js';
import { batchOperation, batchRecords, DATE_TIME, sendIdempotent, withClient, type ApiModule } from '../../web/api.js';

/**
 * POST /api/v1/service-visits: visits of vehicles at sites, from a tracking or job system.
 * `paths` is a getter: api.ts imports this module, so what it exports is read only once both have loaded.
 */
export const serviceVisitsApi: ApiModule = {
  get paths() {
    return {
      '/service-visits': {
        post: batchOperation(
          'Record service visits',
          `Up to ${MAX_VISIT_BATCH.toLocaleString('en-GB')} visits a request. ` +
            "A visit is one vehicle at one site, for one service (named as in Portico's Sites page), " +
            'with its start and end; ' +
            "a completed visit turns the site green on its customer's map for the days it overlaps.",
          'ServiceVisit',
          'visits:write',
          { min: 0, max: MAX_VISIT_BATCH },
        ),
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
        service: {
          type: ['string', 'null'],
          description: 'The name of one of your services (any case); omit when none',
        },
        vehicle: { type: 'string', minLength: 1, maxLength: MAX_VEHICLE_LENGTH, pattern: '\\S' },
        started_at: DATE_TIME,
        ended_at: { ...DATE_TIME, description: 'Not before started_at; at most 7 days later' },
        completed: {
          type: 'boolean',
          default: true,
          description: 'Whether the service was done (false: the vehicle came but could not do it)',
        },
        notes: { type: ['string', 'null'], maxLength: MAX_VISIT_NOTES },
      },
    },
  },
  mount(router, ctx) {
    router.post(
      '/service-visits',
      withClient(async (req, res, client) => {
        const records = batchRecords(req, { min: 0, max: MAX_VISIT_BATCH });
        await sendIdempotent(ctx, client, req, res, async (trx) => ({
          status: 200,
          body: { accepted: await insertServiceVisits(trx, client.tenantId, records as IncomingVisit[], 'api') },
        }));
      }),
    );
  },
};
